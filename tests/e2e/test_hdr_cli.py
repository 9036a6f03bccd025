"""`fallout hdr`: summary, merge, split, csv and record on the interval-log vectors of
tests/data/hdr (see its README for where they come from and their expected values)."""
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DATA

HDR = DATA / "hdr"
SUCCESS = "phase1.block8--read-from-table-one--success"
ERROR = "phase1.block8--read-from-table-one--error"
SPLIT = HDR / f"{SUCCESS}.nb-histogram-with-tags.hdr"
SPLIT_CSV = HDR / f"{SUCCESS}.nb-histogram-with-tags.csv"


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def summary_json(fallout, *args):
    return {t["tag"]: t for t in json.loads(ok(fallout("hdr", "summary", "--json", *args)))["tags"]}


def test_summary_text_matches_java(fallout):
    out = ok(fallout("hdr", "summary", HDR / "java-generated-sample.hlog"))
    lines = out.splitlines()
    assert lines[0].split() == ["tag", "intervals", "count", "duration_s", "ops/s", "min", "mean", "stddev",
                                "p50", "p90", "p95", "p99", "p99.9", "p99.99", "max"]
    untagged = lines[1].split()
    # Java's HistogramLogProcessor: mean 10.083, stddev 9.775, max 500.171, count 30005
    assert untagged[:3] == ["(untagged)", "3", "30005"]
    assert untagged[6:] == ["10.083", "9.775", "8.188", "21.021", "25.526", "29.131", "29.934", "500.171",
                            "500.171"]
    write = lines[2].split()
    assert write[:5] == ["write", "3", "3000", "30.000", "100.0"]
    assert write[8:11] == ["10.002", "18.006", "19.005"]
    assert write[-1] == "20.005"


def test_summary_json_values(fallout):
    tags = summary_json(fallout, HDR / "java-generated-sample.hlog")
    assert [tags[None][k] for k in ("count", "p50", "p90", "p99", "p99.9", "max")] == \
        [30005, 8187903, 21020671, 29130751, 29933567, 500170751]
    assert [tags["write"][k] for k in ("count", "p50", "p90", "p99", "p99.9", "max")] == \
        [3000, 10002431, 18006015, 19808255, 19988479, 20004863]
    assert tags["write"]["start"] == 1700000000.0 and tags["write"]["duration_s"] == 30.0
    assert tags["write"]["ms"]["max"] == pytest.approx(20.004863)


@pytest.mark.parametrize("name,intervals,count", [
    ("jHiccup-2.0.1.logV0.hlog", 81, 61256),
    ("jHiccup-2.0.6.logV1.hlog", 88, 65964),
    ("jHiccup-2.0.7S.logV2.hlog", 62, 48761),
    ("hiccup.140623.1028.10646.hlog", 11, 51715),
])
def test_summary_reads_old_jhiccup_logs(fallout, name, intervals, count):
    tags = summary_json(fallout, HDR / name)
    assert list(tags) == [None]
    assert (tags[None]["intervals"], tags[None]["count"]) == (intervals, count)


def test_summary_tags_and_tag_filter(fallout):
    tags = summary_json(fallout, HDR / "jHiccup-2.0.7S.logV3.hlog")
    assert list(tags) == [None, "a1.134a", "a3.134a", "a5.132a", "a7.133a"]
    assert tags[None]["count"] == 45750
    assert sum(t["count"] for k, t in tags.items() if k) == 3011
    only = summary_json(fallout, "--tag", "a3.134a", HDR / "jHiccup-2.0.7S.logV3.hlog")
    assert list(only) == ["a3.134a"]
    untagged = summary_json(fallout, "--tag", "", HDR / "jHiccup-2.0.7S.logV3.hlog")
    assert list(untagged) == [None]


def test_summary_nosqlbench_keeps_precision(fallout):
    tags = summary_json(fallout, HDR / "nb-histogram-with-tags.hdr")
    assert tags[SUCCESS]["count"] == 485
    assert tags[SUCCESS]["p99"] == 50276351       # round-to-nearest would give 46325759
    assert tags[SUCCESS]["p99.9"] == 55621631
    assert tags[ERROR]["count"] == 0


def test_summary_of_several_files_adds_up(fallout):
    one = summary_json(fallout, HDR / "java-generated-sample.hlog")
    two = summary_json(fallout, HDR / "java-generated-sample.hlog", HDR / "java-generated-sample.hlog")
    assert two[None]["count"] == 2 * one[None]["count"]
    assert two["write"]["p99"] == one["write"]["p99"]


def test_csv_is_fallouts(fallout):
    out = ok(fallout("hdr", "csv", SPLIT))
    assert out == SPLIT_CSV.read_text()
    assert "\n1613724594.458,2,485,1610752,4788219,2680831,6384127,18447359,50276351,55621631,55621631," \
           "55621631\n" in out


def test_csv_with_tag_to_file(fallout, tmp_path):
    ok(fallout("hdr", "csv", HDR / "nb-histogram-with-tags.hdr", "--tag", SUCCESS, "-o", tmp_path / "x.csv"))
    assert (tmp_path / "x.csv").read_text() == SPLIT_CSV.read_text()


def test_split_gives_fallouts_split(fallout, tmp_path):
    src = tmp_path / "nb-histogram-with-tags.hdr"
    shutil.copy(HDR / "nb-histogram-with-tags.hdr", src)
    out = ok(fallout("hdr", "split", src))
    made = sorted(Path(p).name for p in out.split())
    assert made == sorted([f"{SUCCESS}.nb-histogram-with-tags.hdr", f"{ERROR}.nb-histogram-with-tags.hdr"])
    ours = tmp_path / f"{SUCCESS}.nb-histogram-with-tags.hdr"
    text = ours.read_text()
    assert text.startswith("#[Histogram log format version 1.3]\n"
                           "#Splitting of:nb-histogram-with-tags.hdr start:0.0 end:1.7976931348623157E308\n"
                           "#[BaseTime: 1613724592.445 (seconds since epoch)]\n"
                           "#[StartTime: 1613724592.445 (seconds since epoch), ")
    # the same intervals as Fallout's split (the compressed bytes may differ: compare values)
    assert ok(fallout("hdr", "csv", ours)) == SPLIT_CSV.read_text()
    lines = [line.split(",")[:4] for line in text.splitlines() if line.startswith("Tag=")]
    want = [line.split(",")[:4] for line in SPLIT.read_text().splitlines() if line.startswith("Tag=")]
    assert lines == want
    other = tmp_path / "elsewhere"
    other.mkdir()
    ok(fallout("hdr", "split", HDR / "jHiccup-2.0.7S.logV3.hlog", "-o", other))
    assert sorted(p.name.split(".jHiccup")[0] for p in other.iterdir()) == \
        ["a1.134a", "a3.134a", "a5.132a", "a7.133a", "default"]


def test_merge_totals_equal_the_parts(fallout, tmp_path):
    out = tmp_path / "union.hdr"
    logs = [HDR / "java-generated-sample.hlog", HDR / "java-generated-sample.hlog",
            HDR / "nb-histogram-with-tags.hdr"]
    ok(fallout("hdr", "merge", *logs, "-o", out))
    merged = summary_json(fallout, out)
    parts = summary_json(fallout, *logs)
    assert set(merged) == set(parts)
    for tag in parts:
        assert merged[tag]["count"] == parts[tag]["count"]
        assert merged[tag]["max"] == parts[tag]["max"]
        assert merged[tag]["p99"] == parts[tag]["p99"]
    # the two copies' intervals are aligned, so each union holds one interval of each
    assert merged[None]["intervals"] == 3 and merged["write"]["intervals"] == 3
    text = out.read_text()
    assert "#[BaseTime: 1613724592.445 (seconds since epoch)]" in text   # the earliest StartTime


def record(fallout, out, lines, *args):
    return fallout("hdr", "record", "-o", out, *args, input="".join(f"{x}\n" for x in lines))


def test_record_then_summarize(fallout, tmp_path):
    out = tmp_path / "rec.hdr"
    ok(record(fallout, out, ["1000", "2000", "reads 1500", "# a comment", "", "writes 3.5"], "--unit", "us",
              "--tag", "all"))
    tags = summary_json(fallout, out)
    assert tags["all"]["count"] == 2
    assert tags["all"]["min"] == pytest.approx(1000000, rel=1e-3)
    assert tags["reads"]["max"] == pytest.approx(1500000, rel=1e-3)
    assert tags["writes"]["max"] == pytest.approx(3500, rel=1e-3)
    text = out.read_text()
    assert text.startswith("#[Histogram log format version 1.3]\n#[StartTime: ")
    assert "#[BaseTime: " in text


def test_record_writes_an_interval_per_period(fallout, tmp_path):
    out = tmp_path / "rec.hdr"
    proc = subprocess.Popen([fallout.path, "hdr", "record", "-o", str(out), "--interval", "200ms"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("100\n200\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if out.exists() and any(line[:1].isdigit() for line in out.read_text().splitlines()):
                break
            time.sleep(0.05)
        else:
            pytest.fail("no interval written")
        proc.stdin.write("300\n")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    tags = summary_json(fallout, out)
    assert tags[None]["count"] == 3
    assert tags[None]["intervals"] >= 2


def test_merge_of_three_clients(fallout, tmp_path):
    """Three 'client nodes' record logs; the union's totals are the sums of the parts."""
    logs = []
    for node in range(3):
        log = tmp_path / f"node{node}.hdr"
        ok(record(fallout, log, [f"{v * (node + 1)}" for v in range(1, 101)] + ["err 5"] * (node + 1), "--unit",
                  "us"))
        logs.append(log)
    ok(fallout("hdr", "merge", *logs, "-o", tmp_path / "all.hdr"))
    merged = summary_json(fallout, tmp_path / "all.hdr")
    assert merged[None]["count"] == 300
    assert merged["err"]["count"] == 6
    assert merged[None]["max"] == pytest.approx(300000, rel=1e-3)


@pytest.mark.parametrize("name,message", [
    ("test_tagged_invalid_histogram.txt", "test_tagged_invalid_histogram.txt:1: invalid histogram: "),
    ("test_tagged_invalid_tag_key.txt", "test_tagged_invalid_tag_key.txt:1: unknown key 'Ta' (expected 'Tag=')"),
    ("test_tagged_invalid_timestamp.txt",
     "test_tagged_invalid_timestamp.txt:1: invalid start timestamp '7.1a33'"),
    ("test_tagged_missing_histogram.txt", "test_tagged_missing_histogram.txt:1: missing histogram"),
])
@pytest.mark.parametrize("sub", ["summary", "csv", "split"])
def test_malformed_logs_refused(fallout, tmp_path, name, message, sub):
    args = ["-o", tmp_path] if sub == "split" else []
    r = fallout("hdr", sub, *args, HDR / name, cwd=HDR)
    assert r.returncode == 1
    assert f"fallout: hdr {sub}: " in r.stderr
    assert message in r.stderr


def test_merge_refuses_malformed_log(fallout, tmp_path):
    r = fallout("hdr", "merge", HDR / "java-generated-sample.hlog", HDR / "test_tagged_invalid_timestamp.txt",
                "-o", tmp_path / "x.hdr")
    assert r.returncode == 1
    assert "invalid start timestamp '7.1a33'" in r.stderr


def test_errors(fallout, tmp_path):
    r = fallout("hdr", "summary", tmp_path / "missing.hdr")
    assert r.returncode == 1 and "cannot open" in r.stderr and "missing.hdr" in r.stderr
    r = fallout("hdr", "sumary", "x")
    assert r.returncode == 2 and "did you mean 'summary'" in r.stderr
    r = fallout("hdr")
    assert r.returncode == 2
    r = fallout("hdr", "merge", HDR / "java-generated-sample.hlog")
    assert r.returncode == 2 and "-o OUT.hdr" in r.stderr
    r = fallout("hdr", "summary", "--bogus", HDR / "java-generated-sample.hlog")
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr
    r = fallout("hdr", "record", "-o", tmp_path / "r.hdr", "--interval", "soon")
    assert r.returncode == 2 and "--interval" in r.stderr
    r = record(fallout, tmp_path / "r.hdr", ["10", "ten"])
    assert r.returncode == 1 and "<stdin>:2: not a latency: 'ten'" in r.stderr
    r = fallout("hdr", "csv", HDR / "java-generated-sample.hlog", HDR / "nb-histogram-with-tags.hdr")
    assert r.returncode == 2 and "one log at a time" in r.stderr


def test_help(fallout):
    out = ok(fallout("help", "hdr"))
    for sub in ("summary", "merge", "split", "csv", "record"):
        assert f"fallout hdr {sub}" in out
