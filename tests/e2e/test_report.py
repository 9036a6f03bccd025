"""`fallout report`: performance reports rebuilt from the raw interval logs of run folders.

Each run folder here is built as `fallout exec` leaves one (testrun.json, fallout-shared.log,
controller/jepsen-history.json, <group>/node<N>/*.hdr), with logs written by
`fallout hdr record` from known latencies. The tests check what a user reads: the text
tables, the verdicts of baseline-versus-contender comparisons, the JSON report, the HTML
(escaped), and, in headless Chromium, that the page draws every chart without a script
error. Chromium is a dependency (scripts/deps.sh): if it cannot run, the test fails.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def record(fallout, logs, interval="50ms"):
    """Writes interval logs with `fallout hdr record`, all at once (as clients do): logs maps
    a path to a list of chunks of latencies (ms), each fed at once; a pause between chunks
    lets intervals pass."""
    procs = {}
    for path in logs:
        path.parent.mkdir(parents=True, exist_ok=True)
        args = [fallout.path, "hdr", "record", "-o", str(path), "--interval", interval, "--unit", "ms"]
        procs[path] = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    for i in range(max(len(c) for c in logs.values())):
        if i:
            time.sleep(0.06)  # pacing the input, so that the chunks fall in different intervals
        for path, chunks in logs.items():
            if i < len(chunks):
                procs[path].stdin.write("".join(f"{v}\n" for v in chunks[i]))
                procs[path].stdin.flush()
    for path, p in procs.items():
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, f"fallout hdr record -o {path}: {err}"


def make_run(root, name, logs, test_name="demo", phases=(), started=None):
    """A run folder: logs maps 'client/node0/lat.hdr' to a list of chunks of latencies (ms);
    phases are (module alias, start s, end s) in the history's clock, whose zero is when the
    workload started (started, s since epoch: now by default)."""
    run = root / name
    (run / "controller").mkdir(parents=True)
    (run / "testrun.json").write_text(json.dumps({"testName": test_name, "testRunId": name, "state": "PASSED"}))
    history = []
    for alias, start, end in phases:
        history.append({"time": int(start * 1e9), "process": alias, "module": "bash", "type": "start"})
        history.append({"time": int(end * 1e9), "process": alias, "module": "bash", "type": "end"})
    history.sort(key=lambda op: op["time"])
    (run / "controller" / "jepsen-history.json").write_text("".join(json.dumps(op) + "\n" for op in history))
    started = time.time() if started is None else started
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + f".{int(started * 1000) % 1000:03d}Z"
    (run / "fallout-shared.log").write_text(f"{stamp} INFO  run SETTING_UP -> RUNNING\n")
    return run, logs


def build_run(fallout, root, name, logs, **kw):
    run, logs = make_run(root, name, logs, started=time.time(), **kw)
    record(fallout, {run / rel: chunks for rel, chunks in logs.items()})
    return run


def chromium_exe():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("chromium is not installed (Debian package chromium; `make deps` installs it): "
                    "the HTML report cannot be checked")
    return exe


def render(html, tmp_path, *extra):
    """Runs headless Chromium on the page; returns its stdout (the DOM with --dump-dom)."""
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    profile.mkdir()
    args = [chromium_exe(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            *extra, Path(html).resolve().as_uri()]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish rendering {html} in 120 s")
    if p.returncode != 0:
        pytest.fail(f"chromium could not run (exit {p.returncode}): {p.stderr[-3000:]}")
    return p.stdout


def assert_charts_drawn(html, tmp_path, charts):
    """The page's script marks <body> with the number of charts and of charts drawn."""
    dom = render(html, tmp_path, "--dump-dom")
    m = re.search(r"<body\b([^>]*)>", dom)
    if not m:
        pytest.fail(f"chromium printed no page for {html}: {dom[:500]!r}")
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    assert "data-error" not in attrs, f"the page's script failed: {attrs['data-error']}"
    assert attrs.get("data-charts") == str(charts), attrs
    assert attrs.get("data-drawn") == str(charts), attrs
    return dom


def uniform(lo, hi, n):
    """n latencies evenly spread from lo to hi (ms)."""
    return [round(lo + (hi - lo) * i / (n - 1), 4) for i in range(n)]


# ---- one run ----


def test_single_run_rebuilds_json_and_html(fallout, tmp_path):
    run = build_run(fallout, tmp_path, "run1", {
        "client/node0/lat.hdr": [uniform(1, 10, 500), uniform(1, 10, 500), uniform(5, 20, 500)],
        "client/node1/lat.hdr": [uniform(1, 10, 250)],
    }, test_name="demo <script>alert(1)</script>", phases=[("load", 0, 0.2), ("check", 0.2, 0.3)])
    r = fallout("report", run)
    assert r.returncode == 0, r.stderr
    # the text table: one series, every value counted once across the two nodes
    assert re.search(r"^lat\s+1750\s", r.stdout, re.M), r.stdout
    assert f"wrote {run}/client/performance-report.json" in r.stdout
    assert f"wrote {run}/client/performance-report.html" in r.stdout

    report = json.loads((run / "client" / "performance-report.json").read_text())
    (stats,) = report["stats"]
    assert stats["test"] == "lat"
    assert stats["Total Operations"] == 1750
    assert stats["Max Latency"].startswith("20.0")
    assert stats["Min Latency"].startswith("1.000")

    html = (run / "client" / "performance-report.html").read_text()
    # user-controlled text is escaped, in the markup and in the inlined JSON
    assert "<script>alert(1)" not in html
    assert "demo &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\u003c/script\\u003e" in html
    # the summary table and the phases
    assert "<h2>Summary</h2>" in html
    assert re.search(r'<a href="#s0">lat</a></td><td>1,750</td>', html)
    assert "<b>load</b> 0.00&ndash;0.20 s" in html
    # self-contained: no external scripts, styles or fonts
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)
    assert_charts_drawn(run / "client" / "performance-report.html", tmp_path, charts=3)


def test_single_run_to_another_file(fallout, tmp_path):
    run = build_run(fallout, tmp_path, "r", {"client/node0/lat.hdr": [uniform(1, 2, 100)]})
    out = tmp_path / "elsewhere.html"
    r = fallout("report", run, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    assert not (run / "client" / "performance-report.html").exists()


def test_screenshot_shows_a_drawn_report(fallout, tmp_path):
    """A picture of the page for people (kept at $FO_REPORT_SCREENSHOT when set)."""
    run = build_run(fallout, tmp_path, "shot", {
        "client/node0/ops.hdr": [uniform(1, 5, 300), uniform(2, 9, 300), uniform(1, 4, 300), uniform(1, 3, 300)],
        "client/node1/ops.hdr": [uniform(1, 6, 300), uniform(2, 8, 300), uniform(1, 4, 300), uniform(1, 3, 300)],
    }, phases=[("load", 0, 0.2), ("nemesis", 0.06, 0.14), ("read", 0.2, 0.45)])
    assert fallout("report", run).returncode == 0
    png = Path(os.environ.get("FO_REPORT_SCREENSHOT") or tmp_path / "report.png")
    render(run / "client" / "performance-report.html", tmp_path, f"--screenshot={png}", "--window-size=1400,2400",
           "--hide-scrollbars")
    assert png.exists() and png.stat().st_size > 50_000, "the screenshot is missing or blank"


# ---- side by side ----


def test_side_by_side(fallout, tmp_path):
    a = build_run(fallout, tmp_path, "a", {"client/node0/lat.hdr": [uniform(1, 3, 400)]})
    b = build_run(fallout, tmp_path, "b", {"client/node0/lat.hdr": [uniform(2, 6, 400)]})
    out = tmp_path / "cmp.html"
    r = fallout("report", a, b, "-o", out)
    assert r.returncode == 0, r.stderr
    # the table: b against a; its max doubled (3 ms -> 6 ms)
    row = next(line for line in r.stdout.splitlines() if line.startswith("b "))
    assert "(+100.0%)" in row.split()[-1] or "+100.0%" in row, r.stdout
    html = out.read_text()
    assert "2 runs compared" in html
    assert 'class="delta worse"' in html  # higher latency is worse
    assert_charts_drawn(out, tmp_path, charts=3)


# ---- baseline versus contender ----


def repeated(fallout, root, prefix, lo_hi, n):
    runs = []
    for i in range(n):
        lo, hi = lo_hi[i % len(lo_hi)]
        runs.append(build_run(fallout, root, f"{prefix}{i + 1}", {"client/node0/lat.hdr": [uniform(lo, hi, 300)]}))
    return runs


def ab(fallout, base, cont, out):
    return fallout("report", "--baseline", ",".join(map(str, base)), "--contender", ",".join(map(str, cont)),
                   "-o", out)


def verdict(stdout, metric):
    line = next(ln for ln in stdout.splitlines() if re.match(rf"^(lat)?\s+{re.escape(metric)}\s", ln))
    return line


def test_baseline_vs_contender_significant(fallout, tmp_path):
    base = repeated(fallout, tmp_path, "A", [(1, 3), (1.02, 3.05), (0.98, 2.96)], 3)
    cont = repeated(fallout, tmp_path, "B", [(2, 6), (2.04, 6.1), (1.97, 5.95)], 3)
    out = tmp_path / "ab.html"
    r = ab(fallout, base, cont, out)
    assert r.returncode == 0, r.stderr
    assert "baseline: 3 runs, contender: 3 runs" in r.stdout
    p50 = verdict(r.stdout, "p50")
    assert "significant (p" in p50 and "no significant" not in p50, r.stdout
    assert "+100" in p50 or "+99" in p50 or "+101" in p50, p50
    assert "±" in p50  # the 95% confidence intervals
    html = out.read_text()
    assert "Baseline vs contender" in html
    assert 'verdict sig worse' in html
    assert_charts_drawn(out, tmp_path, charts=3)


def test_baseline_vs_contender_identical(fallout, tmp_path):
    log = build_run(fallout, tmp_path, "src", {"client/node0/lat.hdr": [uniform(1, 3, 300), uniform(1, 4, 300)]})
    runs = []
    for name in ("A1", "A2", "B1", "B2"):
        shutil.copytree(log, tmp_path / name)
        runs.append(tmp_path / name)
    r = ab(fallout, runs[:2], runs[2:], tmp_path / "same.html")
    assert r.returncode == 0, r.stderr
    for metric in ("throughput", "mean", "p50", "p99", "max"):
        line = verdict(r.stdout, metric)
        assert "no significant difference (p=1.00)" in line, r.stdout
        assert "+0.0%" in line


def test_baseline_vs_contender_one_run_each(fallout, tmp_path):
    a = build_run(fallout, tmp_path, "A1", {"client/node0/lat.hdr": [uniform(1, 3, 300)]})
    b = build_run(fallout, tmp_path, "B1", {"client/node0/lat.hdr": [uniform(5, 9, 300)]})
    out = tmp_path / "one.html"
    r = ab(fallout, [a], [b], out)
    assert r.returncode == 0, r.stderr
    assert "not enough evidence (need at least 2 runs per side)" in verdict(r.stdout, "p50")
    assert "not enough evidence" in out.read_text()


# ---- usage ----


def test_bad_usage_exits_2(fallout, tmp_path):
    r = fallout("report")
    assert r.returncode == 2 and "give at least one run folder" in r.stderr
    (tmp_path / "plain").mkdir()
    r = fallout("report", tmp_path / "plain")
    assert r.returncode == 2 and "is not a run folder" in r.stderr
    r = fallout("report", "--baseline", tmp_path / "plain")
    assert r.returncode == 2 and "--baseline and --contender go together" in r.stderr
    r = fallout("report", "--baseline", "a,,b", "--contender", "c")
    assert r.returncode == 2
    r = fallout("report", "--frobnicate")
    assert r.returncode == 2 and "unknown option" in r.stderr


def test_run_without_logs_or_with_two_groups(fallout, tmp_path):
    empty, _ = make_run(tmp_path, "empty", {})
    r = fallout("report", empty)
    assert r.returncode == 2 and "has no interval logs" in r.stderr
    two = build_run(fallout, tmp_path, "two", {"client/node0/a.hdr": [[1, 2]], "server/node0/b.hdr": [[3, 4]]})
    r = fallout("report", two)
    assert r.returncode == 2 and "choose one with --group" in r.stderr
    r = fallout("report", two, "--group", "server")
    assert r.returncode == 0, r.stderr
    assert (two / "server" / "performance-report.html").exists()


# ---- in a run ----

RUN_WITH_HDRTOOL = """
ensemble:
  server:
    node.count: 1
    provisioner:
      name: local
  client:
    node.count: 3
    provisioner:
      name: local
workload:
  phases:
    - load:
        module: bash
        properties:
          target.group: client
          script: |
            for chunk in 1 2 3; do
              seq 1 100 | sed "s/^/$chunk./"
              sleep 0.06
            done | "$FALLOUT_BIN" hdr record -o "$FALLOUT_NODE_ARTIFACTS/lat.hdr" --interval 50ms --unit ms
  artifact_checkers:
    report:
      artifact_checker: hdrtool
      properties:
        client_group: client
"""


def test_hdrtool_writes_the_html_report_beside_the_json(fallout, tmp_path):
    test = tmp_path / "perf.yaml"
    test.write_text(RUN_WITH_HDRTOOL)
    out = tmp_path / "run"
    r = fallout("exec", "-o", out, test, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((out / "client" / "performance-report.json").read_text())
    assert report["stats"][0]["Total Operations"] == 900  # 3 nodes x 300 values
    html = out / "client" / "performance-report.html"
    text = html.read_text()
    assert "<b>load</b>" in text  # the phase, from the run's history
    assert re.search(r'<a href="#s0">lat</a></td><td>900</td>', text)
    # and a chart per node metric, when the run lasted long enough for samples (they are
    # checked in test_report_metrics.py)
    nodes = json.loads(re.search(r'id="fo-data">(.*?)</script>', text, re.S).group(1))["nodes"]
    assert_charts_drawn(html, tmp_path, charts=3 + len(nodes))
    # and `fallout report` rebuilds the same figures from the raw logs
    html.unlink()
    r = fallout("report", out)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^lat\s+900\s", r.stdout, re.M)
    assert html.exists()
