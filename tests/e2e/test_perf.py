"""Performance artifacts of a real run: three client nodes record latencies with
`fallout hdr record` from a `bash` module; `hdrtool` unites their logs into
performance-report.json (whose totals are the sum of the nodes' values) and .union.hdr,
`hdr_split_to_csv` writes a CSV per tag, and `performance_thresholds` gates the run with a
verdict table. Bad limits are refused by `fallout validate` with FILE:LINE:COL.
"""
import json
import re

import pytest

from runs import checker_log, execute, write

# Per batch, node N records 100*(N+1) reads of (N+1) ms and 10 writes of 5 ms; node 0 also
# records 3 failed reads. Two batches, 0.6 s apart, over 500 ms intervals.
READS = sum(2 * 100 * (n + 1) for n in range(3))
WRITES = 2 * 10 * 3
ERRORS = 2 * 3

SCRIPT = r"""
set -e
n=$FALLOUT_NODE_ORDINAL
ms=$((n + 1))
batch() {
  for i in $(seq $((100 * ms))); do echo "read $ms"; done
  for i in $(seq 10); do echo "write 5"; done
  if [ "$n" = 0 ]; then for i in 1 2 3; do echo "read-error 40"; done; fi
}
{ batch; sleep 0.6; batch; } | "$FALLOUT_BIN" hdr record -o "$FALLOUT_NODE_ARTIFACTS/latency.hdr" \
    --unit ms --interval 500ms
"""


def definition(thresholds):
    lines = "".join(f"          - {json.dumps(t)}\n" for t in thresholds)
    script = "".join(f"            {l}\n" for l in SCRIPT.strip().splitlines())
    return ("ensemble:\n  server:\n    node.count: 3\n    provisioner: local\n  client: server\n"
            "workload:\n  phases:\n    - load:\n        module: bash\n        properties:\n"
            "          target.group: client\n          script: |\n" + script +
            "  artifact_checkers:\n"
            "    report:\n      artifact_checker: hdrtool\n"
            "    csv:\n      artifact_checker: hdr_split_to_csv\n"
            "    gate:\n      artifact_checker: performance_thresholds\n      properties:\n"
            "        thresholds:\n" + lines)


GOOD = ["read: p99 < 10s", "latency:write: count >= 60", "errors < 1%", "*: max < 1s", "throughput > 1",
        "latency:read: p50 >= 2ms", "duration < 1m"]


@pytest.fixture
def run(fallout, tmp_path):
    """Runs a definition with the given limits; returns (result, run folder)."""
    state = tmp_path / "state"
    state.mkdir()
    count = [0]

    def go(thresholds):
        count[0] += 1
        p = write(tmp_path, definition(thresholds), f"perf{count[0]}.yaml")
        out = tmp_path / f"run{count[0]}"
        return execute(fallout, state, out, p, timeout=120), out
    return go


def summary_counts(fallout, path):
    r = fallout("hdr", "summary", "--json", path)
    assert r.returncode == 0, r.stderr
    return {t["tag"]: t["count"] for t in json.loads(r.stdout)["tags"]}


def test_report_totals_are_the_sum_of_the_nodes(fallout, run):
    r, out = run(GOOD)
    assert r.returncode == 0, r.stderr + checker_log(out, "gate")
    assert json.loads((out / "testrun.json").read_text())["state"] == "PASSED"
    group = out / "server"

    # Each node's own log, read back by `fallout hdr summary`.
    per_node = [summary_counts(fallout, group / f"node{n}" / "latency.hdr") for n in range(3)]
    assert [c["read"] for c in per_node] == [200, 400, 600]
    assert per_node[0]["read-error"] == ERRORS

    report = json.loads((group / "performance-report.json").read_text())
    assert report["title"] == "performance-report"
    stats = {s["test"]: s for s in report["stats"]}
    assert sorted(stats) == ["latency:read", "latency:read-error", "latency:write"]
    for tag, want in (("read", READS), ("write", WRITES), ("read-error", ERRORS)):
        s = stats[f"latency:{tag}"]
        assert s["revision"] == "Test Run"
        assert s["metrics"] == ["Ops/Sec", "Latency Avg", "Latency Median", "Latency 95th", "Latency 99th",
                                "Latency 99.9th", "Ops/Interval", "time"]
        assert s["Total Operations"] == want == sum(c.get(tag, 0) for c in per_node)
        assert sum(row[6] for row in s["intervals"]) == want
        assert all(len(row) == 8 for row in s["intervals"])
        assert re.fullmatch(r"(\d+h )?(\d+m )?\d+s", s["Test Duration"])
        assert re.fullmatch(r"\d+ op/sec", s["Op Rate"])
        for k in ("Min Latency", "Avg Latency", "Median Latency", "95th Latency", "99th Latency",
                  "99.9th Latency", "Max Latency", "Median Absolute Deviation", "Interquartile Range"):
            assert re.fullmatch(r"\d+\.\d{3} ms", s[k]), (k, s[k])
    read = stats["latency:read"]
    assert read["Min Latency"] == "1.000 ms"
    assert read["Max Latency"].startswith("3.00")
    # Reads: 200 at 1 ms, 400 at 2 ms, 600 at 3 ms: the median (rank 600) is 2 ms.
    assert read["Median Latency"].startswith("2.00")

    # The union log holds every value once.
    assert summary_counts(fallout, group / "latency.union.hdr") == {
        "read": READS, "write": WRITES, "read-error": ERRORS}
    # ... as `fallout hdr merge` unites them too.
    merged = out / "merged.hdr"
    m = fallout("hdr", "merge", *[group / f"node{n}" / "latency.hdr" for n in range(3)], "-o", merged)
    assert m.returncode == 0, m.stderr
    assert summary_counts(fallout, merged) == summary_counts(fallout, group / "latency.union.hdr")

    # One CSV per tag beside each node's log, in Fallout's layout.
    for n in range(3):
        for tag in ("read", "write"):
            csv = (group / f"node{n}" / f"{tag}.latency.csv").read_text().splitlines()
            assert csv[0] == ("#Absolute timestamp,Relative timestamp,Throughput,Min,Avg,p50,p90,p95,p99,"
                              "p999,p9999,Max")
            assert sum(int(row.split(",")[2]) for row in csv[1:]) == per_node[n][tag]
    assert (group / "node0" / "read-error.latency.csv").exists()
    assert not (group / "node1" / "read-error.latency.csv").exists()

    gate = checker_log(out, "gate")
    assert gate.startswith("PASSED\nevery limit holds (7 limits")
    assert re.search(r"errors < 1%\s+latency\s+0\.474% \(6 of 1266\)\s+ok", gate), gate
    assert "PASS   artifact checker gate (performance_thresholds)" in r.stderr
    assert "PASS   artifact checker report (hdrtool)" in r.stderr


def test_broken_limit_fails_the_run_with_a_verdict_table(run):
    r, out = run(["read: p99 < 1ns", "latency:write: max < 1s", "errors < 0.1%", "nosuch: p99 < 1s"])
    assert r.returncode == 1
    tr = json.loads((out / "testrun.json").read_text())
    assert tr["state"] == "FAILED"
    assert "FAIL   artifact checker gate (performance_thresholds): 3 of 4 checks broken (4 limits):" in r.stderr
    table = r.stderr[r.stderr.index("3 of 4 checks broken"):]
    assert re.search(r"limit\s+series\s+measured\s+verdict", table)
    assert re.search(r"read: p99 < 1ns\s+latency:read\s+3\d{6} ns\s+BROKEN", table), table
    assert re.search(r"latency:write: max < 1s\s+latency:write\s+0\.005 s\s+ok", table), table
    assert re.search(r"errors < 0\.1%\s+latency\s+0\.474% \(6 of 1266\)\s+BROKEN", table), table
    assert ("no series 'nosuch' (series: latency:read, latency:read-error, latency:write)  NO SERIES"
            in table), table
    # The other checkers still pass.
    assert "PASS   artifact checker report (hdrtool)" in r.stderr
    assert "PASS   artifact checker csv (hdr_split_to_csv)" in r.stderr


def test_invalid_limit_refused_with_its_place(fallout, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(definition(["read: p99 < 2ms", "p99 < 2xs", "throughpt > 5"]))
    r = fallout("validate", p)
    assert r.returncode == 2
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    lines = p.read_text().splitlines()
    row = next(i for i, l in enumerate(lines) if "2xs" in l) + 1
    col = lines[row - 1].index("xs") + 1
    assert errs[0] == (f"{p}:{row}:{col}: error: invalid limit 'p99 < 2xs' in 'thresholds' of artifact "
                       "checker 'gate': unknown unit 'xs' for a latency (use ns, us, ms or s)")
    assert errs[1].startswith(f"{p}:{row + 1}:{lines[row].index('throughpt') + 1}: error: invalid limit "
                              "'throughpt > 5'")
    assert "unknown metric 'throughpt' (did you mean 'throughput'?)" in errs[1]
    assert len(errs) == 2


def test_no_logs_fails_hdrtool(fallout, tmp_path):
    p = tmp_path / "nologs.yaml"
    p.write_text("ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n  client: server\n"
                 "workload:\n  phases:\n    - idle:\n        module: bash\n        properties:\n"
                 "          script: 'true'\n"
                 "  artifact_checkers:\n    report:\n      artifact_checker: hdrtool\n")
    state = tmp_path / "state"
    state.mkdir()
    r = fallout("exec", "-o", tmp_path / "run", p, env={"FALLOUT_STATE_DIR": str(state)})
    assert r.returncode == 1
    assert "FAIL   artifact checker report (hdrtool): no interval logs found under server/node*/" in r.stderr
