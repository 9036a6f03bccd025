"""Faults as numbers: `fault_impact` and `systemlog`, for real.

A Redis server on this machine is loaded by kvload at a steady rate while the `pause`
fault stops it for a few seconds. `fault_impact` must see the window in the history, a
steady state before it, the throughput falling to nothing, a p99 of about the pause, and
a finite recovery: a generous limit passes while a strict one fails, with the verdict
table in the checker's log and every number in fault-impact.json. The HTML report hatches
the window on its charts (headless Chromium draws every chart) and tables the impact.
`systemlog` finds nothing wrong in Redis's log, finds the ERROR line a script service
wrote into its own, and passes on a clean service.

Runs the real binary (env FALLOUT, default bin/fallout); each test has its own state folder.
"""
import json
import re
import shutil

from runs import assert_state_clean, checker_log, execute, read_testrun, verdicts, write

from test_report import assert_charts_drawn


PAUSE = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
    configuration_manager:
      name: redis
      properties:
        port: 7391  # not the usual one: other Redis tests may run on this machine at once
  client:
    node.count: 1
    provisioner: local
workload:
  phases:
    - load:
        module: kvload
        properties:
          target: <<provider:server:0:redis:host_port>>
          cluster: "off"
          connections: 4
          rate: 2000
          duration: 16s
      freeze:
        module: pause
        properties:
          delay: 6s
          duration: 3s
  artifact_checkers:
    report:
      artifact_checker: hdrtool
    survived:
      artifact_checker: fault_impact
      properties:
        series: kvload
        band: 20%
        thresholds:
          - recovery_time < 30s
          - "availability > 50%"
          - max_drop > 50%
          - p99_during < 60s
    strict:
      artifact_checker: fault_impact
      properties:
        series: kvload
        thresholds: "max_drop < 10%, p99_during < 10ms"
    clean_logs:
      artifact_checker: systemlog
      properties:
        fail_on_missing: true
"""


def test_pause_impact_is_measured_judged_and_shaded(fallout, state, tmp_path):
    assert shutil.which("redis-server"), "redis-server is missing: run `make deps`"
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, PAUSE))
    # The strict limits fail the run; the rest of the verdicts are the point.
    assert r.returncode == 1, r.stderr
    v = verdicts(out)
    assert {a: v.get(a) for a in ("report", "survived", "strict", "clean_logs")} == \
        {"report": True, "survived": True, "strict": False, "clean_logs": True}, read_testrun(out)

    log = checker_log(out, "survived")
    assert "every limit holds (4 limits, 1 fault)" in log, log
    row = next(line for line in log.splitlines() if line.strip().startswith("pause (freeze)"))
    assert "server/node0" in row and row.rstrip().endswith("ok"), row
    strict = checker_log(out, "strict")
    assert "BROKEN: max_drop < 10%; p99_during < 10ms" in strict, strict

    # Both checkers write the group's fault-impact.json: the last one's stays.
    data = json.loads((out / "client" / "fault-impact.json").read_text())
    assert data["checker"] == "strict" and data["passed"] is False
    assert data["limits"] == ["max_drop < 10%", "p99_during < 10ms"]
    [series] = data["series"]
    assert series["name"] == "kvload"
    [f] = series["faults"]
    assert f["fault"] == "pause" and f["process"] == "freeze" and f["nodes"] == "server/node0"
    assert f["healed"] and 2.9 <= f["end_s"] - f["start_s"] < 6
    assert 5 <= f["start_s"] < 12, f  # after the 6 s delay, on the workload's clock
    assert f["steady_intervals"] >= 3 and 1500 <= f["steady_ops_s"] <= 2500, f
    assert f["max_drop_pct"] > 90, f  # a whole second without an answer
    assert f["p99_during_ms"] >= 1000, f  # an operation waited for most of the pause
    assert f["recovered"] and 0 <= f["recovery_time_s"] < 10, f
    assert f["verdict"] == "BROKEN: max_drop < 10%; p99_during < 10ms"
    assert 50 < series["availability_pct"] < 100 and series["success_pct"] == 100

    # The report: the window shaded on the charts, the impact tabled.
    html = (out / "client" / "performance-report.html").read_text()
    page = json.loads(re.search(r'<script type="application/json" id="fo-data">(.*?)</script>', html, re.S).group(1))
    [fault] = page["runs"][0]["faults"]
    assert fault["kind"] == "pause" and fault["nodes"] == "server/node0"
    assert abs(fault["start"] - f["start_s"]) < 0.5 and abs(fault["end"] - f["end_s"]) < 0.5
    assert "Faults and their impact" in html and "did not recover" not in html
    assert_charts_drawn(out / "client" / "performance-report.html", tmp_path, html.count('<div class="chart" id='))

    # `fallout report` rebuilds the same page from the run folder.
    r = fallout("report", out, "--group", "client")
    assert r.returncode == 0, r.stderr
    assert_state_clean(state)


SERVICE = """\
ensemble:
  server:
    node.count: 2
    provisioner: local
    configuration_manager:
      name: script
      properties:
        service: |
          echo "starting on $FALLOUT_NODE_NAME"
          echo "WARN cache is cold"
          {line}
          exec sleep 300
        ready: "true"
  client: server
workload:
  phases:
    - x:
        module: noop
  artifact_checkers:
    logs:
      artifact_checker: systemlog
"""


def test_systemlog_finds_an_error_line_and_passes_a_clean_service(fallout, state, tmp_path):
    bad = tmp_path / "bad"
    line = '[ "$FALLOUT_NODE_ORDINAL" = 1 ] && echo "ERROR: disk on fire"'
    r = execute(fallout, state, bad, write(tmp_path, SERVICE.format(line=line), "bad.yaml"), timeout=60)
    assert r.returncode == 1, r.stderr
    assert verdicts(bad)["logs"] is False
    log = checker_log(bad, "logs")
    assert "1 error line in 2 logs of group 'server':" in log, log
    assert re.search(r"server/node1/service\.log:\d+: ERROR: disk on fire", log), log
    assert "2 warning lines (not failing the check)" in log, log

    clean = tmp_path / "clean"
    r = execute(fallout, state, clean, write(tmp_path, SERVICE.format(line="true"), "clean.yaml"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert verdicts(clean)["logs"] is True
    assert "no error lines in 2 logs of group 'server'" in checker_log(clean, "logs")
    assert_state_clean(state)


def test_limits_are_checked_when_the_definition_is(fallout, tmp_path):
    p = write(tmp_path, PAUSE.replace("recovery_time < 30s", "recovery_tme < 30s")
              .replace('"availability > 50%"', '"availability > 50ms"'))
    r = fallout("validate", p)
    assert r.returncode != 0
    text = PAUSE.splitlines()
    row = next(i for i, line in enumerate(text) if "recovery_time < 30s" in line) + 1
    col = text[row - 1].index("recovery_time") + 1
    assert f"{p}:{row}:{col}: error: invalid limit 'recovery_tme < 30s' in 'thresholds' of artifact checker " \
           f"'survived': unknown metric 'recovery_tme' (did you mean 'recovery_time'?)" in r.stderr, r.stderr
    assert "unexpected 'ms' after the value: availability takes a percentage (99.9%)" in r.stderr, r.stderr
