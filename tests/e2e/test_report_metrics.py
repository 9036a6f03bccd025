"""The performance report's Nodes section and notes: node metrics drawn on the time axis of
throughput and latency, and the run's notes (a load driver that saturated its CPU) as a
warning banner, with the saturated seconds shaded on the charts.

Real runs of `fallout exec` (Debian's redis-server, `make deps` installs it) whose client
scripts record latencies with `fallout hdr record`, reported by the hdrtool artifact checker
and rebuilt by `fallout report`; and run folders made here, for what a real run cannot be
made to show on purpose (gaps, long runs, a note's exact seconds). Headless Chromium checks
that the page draws every chart (see test_report.py).
"""
import html as htmlmod
import json
import os
import re
import shutil
from pathlib import Path

from runs import execute as run_definition, write

from test_report import assert_charts_drawn, build_run, render, uniform

NOTE = "load driver on client/node0 saturated its CPU"


def execute(fallout, state, tmp_path, definition):
    out = tmp_path / "run"
    r = run_definition(fallout, state, out, write(tmp_path, definition), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def page_data(html_path):
    """The page's inlined data (the JSON report.js draws)."""
    text = Path(html_path).read_text()
    m = re.search(r'<script type="application/json" id="fo-data">(.*?)</script>', text, re.S)
    assert m, "the page has no data"
    return json.loads(m.group(1))


def charts_of(data):
    return {c["title"]: c for c in data["nodes"]}


REDIS_RUN = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
    configuration_manager: redis
  client:
    node.count: 2
    provisioner: local
workload:
  phases:
    - load:
        module: bash
        properties:
          target.group: client
          script: |
            host=<<provider:server:0:redis:address>>
            port=<<provider:server:0:redis:port>>
            timeout 3 redis-benchmark -h $host -p $port -c 2 -n 10000000 -t set,get -q >/dev/null 2>&1 &
            end=$(( $(date +%s%N) + 3000000000 ))
            while :; do
              s=$(date +%s%N)
              [ $s -ge $end ] && break
              redis-cli -h $host -p $port SET k$RANDOM v >/dev/null
              echo $(( ($(date +%s%N) - s) / 1000 ))
            done | "$FALLOUT_BIN" hdr record -o "$FALLOUT_NODE_ARTIFACTS/set.hdr" --interval 250ms --unit us
            wait
  artifact_checkers:
    report:
      artifact_checker: hdrtool
      properties:
        client_group: client
"""


def test_a_redis_run_draws_its_node_metrics_with_throughput_and_latency(fallout, state, tmp_path):
    assert shutil.which("redis-server") and shutil.which("redis-benchmark"), "redis is missing: run `make deps`"
    out = execute(fallout, state, tmp_path, REDIS_RUN)
    html = out / "client" / "performance-report.html"
    text = html.read_text()
    assert '<section class="card nodes" id="nodes"><h2>Nodes' in text
    assert "the machine and 3 nodes" in text
    data = page_data(html)
    charts = charts_of(data)
    for title in ("Machine CPU", "Machine memory used", "Network", "Service CPU", "Service memory",
                  "Load driver CPU", "Redis operations", "Redis used memory", "Redis clients"):
        assert title in charts, (title, list(charts))
    assert [l["label"] for l in charts["Machine CPU"]["lines"]] == ["busy", "user", "system", "iowait"]
    assert charts["Machine CPU"]["ymax"] == 100
    # one line per node, named after it
    assert [l["label"] for l in charts["Service CPU"]["lines"]] == ["server/node0"]
    drivers = [l["label"] for l in charts["Load driver CPU"]["lines"]]
    assert "client/node0" in drivers and "client/node1" in drivers, drivers
    ops = charts["Redis operations"]["lines"][0]
    assert charts["Redis operations"]["unit"] == "/s" and max(ops["v"]) > 100, ops
    # the same clock as the throughput and latency: seconds since the workload started
    (load,) = data["runs"][0]["phases"]
    (series,) = data["series"]
    assert 0 <= series["runs"][0]["t"][0] < load["end"]
    for c in data["nodes"]:
        for ln in c["lines"]:
            assert 0.5 < ln["t"][0] < 1.5 and ln["t"][-1] < load["end"] + 1.5, (c["title"], ln)
    # no notes: no banner
    assert data["runs"][0]["notes"] == [] and 'class="notes"' not in text
    assert len(re.findall(r'<div class="chart" [^>]*data-kind="metric"', text)) == len(data["nodes"])
    assert_charts_drawn(html, tmp_path, charts=3 + len(data["nodes"]))

    # `fallout report` rebuilds the same page from the run folder
    html.unlink()
    r = fallout("report", out)
    assert r.returncode == 0, r.stderr
    assert [c["title"] for c in page_data(html)["nodes"]] == [c["title"] for c in data["nodes"]]

    png = Path(os.environ.get("FO_REPORT_NODES_SCREENSHOT") or tmp_path / "nodes.png")
    render(html, tmp_path, f"--screenshot={png}", "--window-size=1400,3000", "--hide-scrollbars")
    assert png.exists() and png.stat().st_size > 80_000, "the screenshot is missing or blank"


SATURATING_RUN = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
  client:
    node.count: 1
    provisioner: local
workload:
  phases:
    - burn:
        module: bash
        properties:
          target.group: client
          script: |
            for i in $(seq $(nproc)); do timeout 4 sh -c 'while :; do :; done' & done
            for i in $(seq 30); do echo $(( RANDOM % 50 + 1 )); sleep 0.1; done |
              "$FALLOUT_BIN" hdr record -o "$FALLOUT_NODE_ARTIFACTS/lat.hdr" --interval 500ms --unit ms
            wait
  artifact_checkers:
    report:
      artifact_checker: hdrtool
      properties:
        client_group: client
"""


def test_a_saturated_load_driver_opens_the_report_with_a_warning(fallout, state, tmp_path):
    out = execute(fallout, state, tmp_path, SATURATING_RUN)
    [note] = json.loads((out / "testrun.json").read_text())["notes"]
    assert note.startswith(NOTE), note
    html = out / "client" / "performance-report.html"
    text = html.read_text()
    banner = re.search(r'<section class="notes" id="notes" role="note">.*?</section>', text, re.S)
    assert banner, "no notes banner"
    assert htmlmod.escape(note, quote=True).replace("&#x27;", "&#39;") in banner.group(0)
    # before the summary and the charts
    assert text.index('id="notes"') < text.index('id="summary"') < text.index('id="nodes"')
    # the saturated seconds, found in the node's metrics, are said and shaded
    m = re.search(r'shaded on the charts: ([\d.]+)&ndash;([\d.]+) s', banner.group(0))
    assert m, banner.group(0)
    start, end = float(m.group(1)), float(m.group(2))
    assert 0 <= start < end and end - start >= 2.9, (start, end)
    data = page_data(html)
    [[s, e]] = data["runs"][0]["notes"][0]["spans"]
    assert abs(s - start) < 0.06 and abs(e - end) < 0.06
    assert_charts_drawn(html, tmp_path, charts=3 + len(data["nodes"]))


# ---- run folders made here ----


def metrics_lines(n, fields, skip=()):
    """n seconds of metrics lines (t = 1..n), fields(t) giving each line's figures; the
    seconds in skip have no line (a gap)."""
    return "".join(json.dumps({"t": float(t), "wall": 1.7e9 + t, **fields(t)}) + "\n"
                   for t in range(1, n + 1) if t not in skip)


def test_long_runs_are_thinned_gaps_break_lines_and_notes_are_escaped(fallout, tmp_path):
    run = build_run(fallout, tmp_path, "long", {"client/node0/lat.hdr": [uniform(1, 5, 200)]})
    notes = [NOTE + " (95% for 6 s): its latency numbers are suspect",
             "a note with <script>alert(1)</script> & more"]
    testrun = json.loads((run / "testrun.json").read_text())
    (run / "testrun.json").write_text(json.dumps({**testrun, "notes": notes}))
    (run / "metrics").mkdir()
    (run / "metrics" / "machine.jsonl").write_text(
        metrics_lines(5000, lambda t: {"cpu.cores": 2, "cpu.busy_pct": 50 + t % 10, "mem.used_bytes": 1e9}))
    (run / "server" / "node0").mkdir(parents=True)
    (run / "server" / "node0" / "metrics.jsonl").write_text(
        metrics_lines(20, lambda t: {"service.cpu_pct": 10.0, "redis.ops_per_s": 1000 + t}, skip={8, 9}))
    (run / "client" / "node0" / "metrics.jsonl").write_text(
        metrics_lines(20, lambda t: {"driver.cpu_pct": 190.0 if 10 <= t <= 15 else 20.0, "driver.cpu_wait_pct": 0}))
    r = fallout("report", run)
    assert r.returncode == 0, r.stderr
    html = run / "client" / "performance-report.html"
    text = html.read_text()
    data = page_data(html)
    charts = charts_of(data)
    # 5000 seconds: at most 2000 points a line, averaged
    busy = charts["Machine CPU"]["lines"][0]
    assert 1000 < len(busy["t"]) <= 2000 and busy["t"][-1] > 4990, len(busy["t"])
    assert all(50 <= v <= 59 for v in busy["v"])
    # two seconds without a sample: the line breaks (a null between t=7 and t=10)
    ops = charts["Redis operations"]["lines"][0]
    i = ops["v"].index(None)
    assert ops["t"][i - 1] == 7 and ops["t"][i + 1] == 10 and ops["v"].count(None) == 1, ops
    # the driver's 95% of the cores from t=10 to 15 (each sample is the second before it)
    assert "shaded on the charts: 9.0&ndash;15.0 s" in text
    assert data["runs"][0]["notes"][0]["spans"] == [[9, 15]]
    assert data["runs"][0]["notes"][1]["spans"] == []
    # user-controlled text is escaped in the markup and in the inlined JSON
    assert "<script>alert(1)" not in text
    assert "a note with &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert_charts_drawn(html, tmp_path, charts=3 + len(data["nodes"]))

    # a comparison shows each run's notes, and no node metrics
    other = build_run(fallout, tmp_path, "other", {"client/node0/lat.hdr": [uniform(1, 5, 200)]})
    out = tmp_path / "cmp.html"
    r = fallout("report", run, other, "-o", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert f"<li><b>long</b>: {NOTE}" in text
    assert 'id="nodes"' not in text and page_data(out)["nodes"] == []
    assert_charts_drawn(out, tmp_path, charts=3)


def test_unreadable_metrics_cost_the_node_charts_not_the_report(fallout, tmp_path):
    run = build_run(fallout, tmp_path, "bad", {"client/node0/lat.hdr": [uniform(1, 5, 100)]})
    (run / "metrics").mkdir()
    (run / "metrics" / "machine.jsonl").write_text('{"t":1,"wall":2,"cpu.busy_pct":3}\nnot json\n{"t":2}\n')
    r = fallout("report", run)
    assert r.returncode == 0, r.stderr
    text = (run / "client" / "performance-report.html").read_text()
    assert "The node metrics could not be read:" in text and "machine.jsonl:2" in text
