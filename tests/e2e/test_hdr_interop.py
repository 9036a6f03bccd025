"""HdrHistogram interop with Java HdrHistogram 2.1.11 (Debian's libhdrhistogram-java), the
reference: interval logs written by Java read back identically in C, logs written by
`fallout hdr merge|split|record` are read by Java with identical results, the vectors of
tests/data/hdr go through both, and malformed logs are refused.

The Java side is ours (tests/java/*.java), compiled once per session into a temporary
folder against /usr/share/java/hdrhistogram.jar, plus Java's own HistogramLogProcessor.
"Identical" means: counts, min, max and percentiles equal, mean and standard deviation
within 1e-9 relative. Java merges a tag's intervals as its HistogramLogProcessor does
(into a growing copy of the first interval's layout), as `fallout hdr summary` does.

Starting a JVM costs more than any check here, so one session fixture does the work in
three steps, two JVMs in all (tests/java/Batch.java runs many Java jobs in one): Java
writes logs; fallout merges, splits and records; Java reads everything (our ReadLog and
HistogramLogProcessor, run in-process as its main runs it; once also from the command
line, as users run it). The tests then compare.

Without java, javac or the jar these tests fail (never skip): `make deps` installs the
Debian packages default-jdk-headless and libhdrhistogram-java.
"""
import base64
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import DATA, ROOT

JAR = Path("/usr/share/java/hdrhistogram.jar")
JAVA_SRC = ROOT / "tests" / "java"
VECTORS = DATA / "hdr"
PACKAGES = "default-jdk-headless libhdrhistogram-java"
# The batches are short; a serial GC starts fastest.
JVM_FLAGS = ["-XX:+UseSerialGC"]
PROCESSOR = "org.HdrHistogram.HistogramLogProcessor"
# fallout's summary names for the percentiles Java prints (tests/java/HdrStats.java)
PERCENTILES = {"p50": "50", "p90": "90", "p95": "95", "p99": "99", "p99.9": "99.9", "p99.99": "99.99"}
LOGS = ("mixed", "absolute", "bare")  # GenLog's scenarios
NODES = ("node1", "node2", "node3")  # the mixed scenario with seeds 1..3: three client nodes
HUGE = "phase1.block8--huge--success"
SAMPLE = VECTORS / "java-generated-sample.hlog"
HICCUP = VECTORS / "hiccup.140623.1028.10646.hlog"
JAVA_READABLE = ["jHiccup-2.0.1.logV0.hlog", "jHiccup-2.0.6.logV1.hlog", "jHiccup-2.0.7S.logV2.hlog",
                 "jHiccup-2.0.7S.logV3.hlog", "java-generated-sample.hlog", "nb-histogram-with-tags.hdr",
                 "phase1.block8--read-from-table-one--success.nb-histogram-with-tags.hdr"]


# ---- Java ----

class Java:
    """Runs our Java programs (tests/java) and Java's HistogramLogProcessor."""

    def __init__(self, classes):
        self.cp = f"{JAR}{os.pathsep}{classes}"

    def cmd(self, main, *args):
        return ["java", *JVM_FLAGS, "-cp", self.cp, main, *map(str, args)]

    def batch(self, jobs, workdir, also=None):
        """Runs jobs {name: (program, args)} in one JVM (tests/java/Batch.java) and, at the
        same time, the command `also` if given. Returns ({name: Job}, `also`'s result)."""
        workdir.mkdir(parents=True, exist_ok=True)
        out = {name: workdir / f"{name}.out" for name in jobs}
        lines = ["\t".join(map(str, [out[name], program, *args])) for name, (program, args) in jobs.items()]
        assert not any("\n" in line for line in lines)
        (workdir / "jobs").write_text("\n".join(lines) + "\n")
        other = subprocess.Popen(also, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) if also else None
        p = subprocess.run(self.cmd("Batch", workdir / "jobs"), capture_output=True, text=True, timeout=300)
        also_result = None
        if other:
            o, e = other.communicate(timeout=300)
            also_result = subprocess.CompletedProcess(also, other.returncode, o, e)
        assert p.returncode == 0, f"Batch failed ({p.returncode}): {p.stdout}{p.stderr}"
        return {name: Job(name, jobs[name], out[name]) for name in jobs}, also_result


class Job:
    """One finished Batch job: its status and output."""

    def __init__(self, name, job, out):
        self.name, self.program, self.args, self.out = name, job[0], job[1], out
        status = Path(f"{out}.status")
        self.status = status.read_text() if status.exists() else "(did not run)"

    def check(self):
        assert self.status == "0", (f"java {self.program} {' '.join(map(str, self.args))} failed: "
                                    f"{self.status}\n{self.out.read_text() if self.out.exists() else ''}")

    def stats(self):
        """The JSON lines of GenLog, ReadLog or RecordValues, keyed by (file, tag)."""
        self.check()
        lines = [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]
        return {(d.get("file"), d["tag"]): d for d in lines}

    def by_tag(self, file=None):
        """The stats of one file (or of a single-file job), keyed by tag."""
        return {tag: s for (f, tag), s in self.stats().items() if file is None or f == str(file)}


@pytest.fixture(scope="session")
def java(tmp_path_factory):
    """Our Java programs, compiled once per session against Debian's HdrHistogram jar."""
    missing = [t for t in ("java", "javac") if shutil.which(t) is None]
    if missing or not JAR.is_file():
        what = ", ".join(missing + ([] if JAR.is_file() else [str(JAR)]))
        pytest.fail(f"the HdrHistogram interop tests need Java HdrHistogram: {what} missing; "
                    f"install the Debian packages {PACKAGES} (`make deps` does)", pytrace=False)
    classes = tmp_path_factory.mktemp("java-classes")
    javac = ["javac", "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-Xlint:all", "-Werror"]
    p = subprocess.run([*javac, "-d", str(classes), "-cp", str(JAR), *map(str, sorted(JAVA_SRC.glob("*.java")))],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"javac of tests/java failed:\n{p.stdout}{p.stderr}", pytrace=False)
    return Java(classes)


def record_values():
    """Lines for `fallout hdr record`: latencies in ns, a third untagged, the rest tagged
    read or write; plus 0, 1, 4e12 and 2^53 - 1."""
    rnd = random.Random(5)
    lines = []
    for i in range(60000):
        v = int(rnd.lognormvariate(13, 1.2))
        lines.append(f"{rnd.choice(['read', 'write'])} {v}" if i % 3 else str(v))
    lines += ["0", "read 1", "write 4000000000000", "9007199254740991"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def interop(java, fallout, tmp_path_factory):
    """Java writes logs; fallout merges, splits and records; Java reads it all."""
    d = tmp_path_factory.mktemp("hdr-interop")
    # 1. Java writes logs (tests/java/GenLog.java).
    logs = {name: d / f"{name}.hlog" for name in LOGS + NODES}
    gen = {name: ("GenLog", [name, logs[name]]) for name in LOGS}
    gen.update({name: ("GenLog", ["mixed", logs[name], i + 1]) for i, name in enumerate(NODES)})
    written, _ = java.batch(gen, d / "gen")
    expected = {name: written[name].by_tag() for name in logs}

    # 2. fallout writes logs.
    merged = d / "merged.hdr"
    merge = fallout("hdr", "merge", *(logs[n] for n in NODES), "-o", merged)
    split_dir = d / "split"
    split_dir.mkdir()
    split = fallout("hdr", "split", logs["mixed"], "-o", split_dir)
    values = d / "values.txt"
    values.write_text(record_values())
    recorded = d / "recorded.hdr"
    record = fallout("hdr", "record", "-o", recorded, "--interval", "1ms", "--sigfigs", "3",
                     input=values.read_text())
    # Java 2.1.11's reader stops at this log's final empty line; give it one without.
    hiccup = d / HICCUP.name
    hiccup.write_text(HICCUP.read_text().rstrip("\n") + "\n")

    # 3. Java reads everything.
    split_files = sorted(split_dir.iterdir())
    processor_runs = {
        "merged": [(merged, None), (merged, "write"), (merged, HUGE)],
        "split": [(split_dir / "default.mixed.hlog", None), (split_dir / "coarse.mixed.hlog", "coarse"),
                  (split_dir / "read.mixed.hlog", "read")],
        "recorded": [(recorded, None), (recorded, "write")],
        "sample": [(SAMPLE, None)],
    }
    jobs = {
        "java-logs": ("ReadLog", [logs[n] for n in LOGS]),
        "nodes": ("ReadLog", ["--merge", *(logs[n] for n in NODES)]),
        "merged": ("ReadLog", [merged]),
        "split": ("ReadLog", split_files or ["(fallout hdr split wrote nothing)"]),
        "recorded": ("ReadLog", [recorded]),
        "recorded-by-java": ("RecordValues", [values, 3]),
        "vectors": ("ReadLog", [*(VECTORS / v for v in JAVA_READABLE), hiccup]),
    }
    processor = {}
    for what, runs in processor_runs.items():
        processor[what] = []
        for i, (log, tag) in enumerate(runs):
            out = d / f"hlp-{what}-{i}"
            args = ["-i", log, "-o", out, "-outputValueUnitRatio", "1"] + (["-tag", tag] if tag else [])
            jobs[f"hlp-{what}-{i}"] = ("HistogramLogProcessor", args)
            processor[what].append((log, tag, out, f"hlp-{what}-{i}"))
    # Java's HistogramLogProcessor as users run it, beside the batch.
    cli_out = d / "hlp-cli"
    cli = java.cmd(PROCESSOR, "-i", SAMPLE, "-o", cli_out, "-outputValueUnitRatio", "1", "-tag", "write")
    read, cli_result = java.batch(jobs, d / "read", also=cli)
    processor["sample"].append((SAMPLE, "write", cli_out, cli_result))
    return SimpleNamespace(logs=logs, expected=expected, merged=merged, merge=merge, split_dir=split_dir,
                           split=split, recorded=recorded, record=record, values=values, hiccup=hiccup,
                           read=read, processor=processor)


# ---- comparing ----

def summary(fallout, *files, tag=None):
    """`fallout hdr summary --json FILES [--tag TAG]`: {tag: stats}."""
    args = ["hdr", "summary", "--json", *files] + (["--tag", tag] if tag is not None else [])
    p = fallout(*args)
    assert p.returncode == 0, f"fallout {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}"
    return {t["tag"]: t for t in json.loads(p.stdout)["tags"]}


def differences(got, want, times=True, what=""):
    """What differs between fallout's stats of one tag (got) and Java's (want)."""
    diffs = []

    def check(name, g, w, ok):
        if not ok:
            diffs.append(f"{what}{name}: fallout {g!r}, java {w!r}")

    for name in ("count", "min", "max"):
        check(name, got[name], want[name], got[name] == want[name])
    for name in ("mean", "stddev"):
        g, w = got[name], want[name]
        check(name, g, w, abs(g - w) <= 1e-9 * abs(w))
    for name, p in PERCENTILES.items():
        check(name, got[name], want["percentiles"][p], got[name] == want["percentiles"][p])
    if times:
        check("intervals", got["intervals"], want["intervals"], got["intervals"] == want["intervals"])
        # Java's reader truncates (start + length) * 1000 to a long: 1 ms off at times.
        check("start", got["start"], want["start_ms"], abs(round(got["start"] * 1000) - want["start_ms"]) <= 1)
        check("end", got["end"], want["end_ms"], abs(round(got["end"] * 1000) - want["end_ms"]) <= 1)
    return diffs


def assert_same(got, want, times=True, where=""):
    """fallout's {tag: stats} equals Java's {tag: stats}, tag by tag."""
    assert sorted(got, key=str) == sorted(want, key=str), f"{where}tags differ"
    diffs = []
    for tag in want:
        diffs += differences(got[tag], want[tag], times, f"{where}tag {tag}: ")
    assert not diffs, "\n".join(diffs)


# HistogramLogProcessor's output: one line per non-empty interval (its count, p50, p90 and
# max, then the totals so far), and OUT.hgrm, the percentile distribution. Values are
# printed as doubles (%.Nf), so fallout's integers are compared as doubles.
INTERVAL = re.compile(r"^([\d.]+): I:(\d+) \( ([\d.]+) ([\d.]+) ([\d.]+) \) "
                      r"T:(\d+) \( ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) \)$")
HGRM_ROW = re.compile(r"^\s*([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+|Infinity)?\s*$")
HGRM_MEAN = re.compile(r"^#\[Mean\s*=\s*([\d.]+), StdDeviation\s*=\s*([\d.]+)\]")
HGRM_MAX = re.compile(r"^#\[Max\s*=\s*([\d.]+), Total count\s*=\s*(\d+)\]")


def read_processor(out):
    intervals = []
    for line in Path(out).read_text().splitlines():
        m = INTERVAL.match(line)
        if m:
            g = m.groups()
            intervals.append({
                "count": int(g[1]), "p50": float(g[2]), "p90": float(g[3]), "max": float(g[4]),
                "total": {"count": int(g[5]), "p50": float(g[6]), "p90": float(g[7]), "p99": float(g[8]),
                          "p99.9": float(g[9]), "p99.99": float(g[10]), "max": float(g[11])},
            })
    rows, footer = [], {}
    for line in Path(f"{out}.hgrm").read_text().splitlines():
        if m := HGRM_ROW.match(line):
            rows.append((float(m.group(1)), float(m.group(2)), int(m.group(3))))
        elif m := HGRM_MEAN.match(line):
            footer["mean"], footer["stddev"] = float(m.group(1)), float(m.group(2))
            # printed with as many decimals as the histogram has significant digits
            footer["decimals"] = len(m.group(1).partition(".")[2])
        elif m := HGRM_MAX.match(line):
            footer["max"], footer["count"] = float(m.group(1)), int(m.group(2))
    return intervals, rows, footer


def csv_rows(fallout, log, tag):
    """`fallout hdr csv LOG --tag TAG` as dicts (Fallout's hdr_split_to_csv layout)."""
    p = fallout("hdr", "csv", log, "--tag", tag or "")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    head = lines[0].lstrip("#").split(",")
    return [dict(zip(head, line.split(","))) for line in lines[1:] if line]


def check_processor(fallout, interop, what):
    """Each HistogramLogProcessor run on a log against fallout on the same log: every
    non-empty interval (count, p50, p90, max against `fallout hdr csv`), the totals (count,
    p50..p99.99, max) and the .hgrm (its footer, its rows at fallout's percentiles)
    against `fallout hdr summary`."""
    diffs = []
    for log, tag, out, job in interop.processor[what]:
        where = f"{Path(log).name} tag {tag}: "
        if isinstance(job, str):
            interop.read[job].check()
        else:
            assert job.returncode == 0, f"{' '.join(map(str, job.args))} failed: {job.stdout}{job.stderr}"
        intervals, rows, footer = read_processor(out)
        want = summary(fallout, log, tag=tag or "").get(tag)
        assert want is not None, f"{where}fallout sees no such tag"
        assert intervals, f"{where}HistogramLogProcessor printed no interval"
        total = intervals[-1]["total"]
        for name in ("count", "p50", "p90", "p99", "p99.9", "p99.99", "max"):
            if total[name] != float(want[name]):
                diffs.append(f"{where}total {name}: java {total[name]}, fallout {want[name]}")
        csv = [r for r in csv_rows(fallout, log, tag) if r["Throughput"] != "0"]
        if len(csv) != len(intervals):
            diffs.append(f"{where}{len(intervals)} non-empty intervals in java, {len(csv)} in fallout hdr csv")
        for i, (j, c) in enumerate(zip(intervals, csv)):
            for jn, cn in (("count", "Throughput"), ("p50", "p50"), ("p90", "p90"), ("max", "Max")):
                if j[jn] != float(c[cn]):
                    diffs.append(f"{where}interval {i} {jn}: java {j[jn]}, fallout {c[cn]}")
        if footer.get("count") != want["count"] or footer.get("max") != float(want["max"]):
            diffs.append(f"{where}hgrm count, max: java {footer.get('count')}, {footer.get('max')}, "
                         f"fallout {want['count']}, {want['max']}")
        for name in ("mean", "stddev"):
            if abs(footer[name] - want[name]) > 0.5 * 10 ** -footer["decimals"] + 1e-12 * abs(want[name]):
                diffs.append(f"{where}hgrm {name}: java {footer[name]}, fallout {want[name]}")
        assert rows and rows[-1][2] == want["count"], f"{where}hgrm rows do not reach the total count"
        at = {round(p, 9): v for v, p, _ in rows}
        found = [name for name, pct in PERCENTILES.items() if round(float(pct) / 100, 9) in at]
        assert "p50" in found and "p90" in found, f"{where}hgrm has no row at p50 or p90"
        for name in found:
            if at[round(float(PERCENTILES[name]) / 100, 9)] != float(want[name]):
                diffs.append(f"{where}hgrm {name}: java {at[round(float(PERCENTILES[name]) / 100, 9)]}, "
                             f"fallout {want[name]}")
    assert not diffs, "\n".join(diffs)


# ---- (a) logs written by Java, read by fallout ----

@pytest.mark.parametrize("name", LOGS)
def test_java_written_log_reads_identically_in_c(fallout, interop, name):
    assert_same(summary(fallout, interop.logs[name]), interop.expected[name], where=f"{name}: ")


def test_java_reads_its_own_logs_as_genlog_recorded(interop):
    """The harness itself: Java's reader agrees with what GenLog recorded."""
    for name in LOGS:
        got = interop.read["java-logs"].by_tag(interop.logs[name])
        want = interop.expected[name]
        assert sorted(got, key=str) == sorted(want, key=str)
        for tag, w in want.items():
            for k in ("count", "min", "max", "mean", "stddev", "percentiles", "intervals", "start_ms"):
                assert got[tag][k] == w[k], f"{name} tag {tag}: {k}"


def test_several_java_logs_summarised_together(fallout, interop):
    """`fallout hdr summary A B C` merges per tag across the files as Java does."""
    got = summary(fallout, *(interop.logs[n] for n in NODES))
    assert_same(got, interop.read["nodes"].by_tag())


# ---- (b) logs written by fallout, read by Java ----

def test_merged_log_reads_identically_in_java(fallout, interop):
    assert interop.merge.returncode == 0, interop.merge.stderr
    java_merged = interop.read["merged"].by_tag()
    java_inputs = interop.read["nodes"].by_tag()
    # What fallout wrote, Java reads as fallout does.
    assert_same(summary(fallout, interop.merged), java_merged, where="merged: ")
    # Nothing lost: the unions hold the inputs' values. (A union starts as a histogram of
    # lowest value 1, as in Fallout's hdrtool, so a tag recorded with a coarser unit
    # keeps its counts, not its unit.)
    diffs = []
    for tag, w in java_inputs.items():
        g = java_merged[tag]
        same = ("count", "min", "max", "percentiles") if w["lowest"] == 1 else ("count",)
        diffs += [f"tag {tag}: {k}: union {g[k]}, inputs {w[k]}" for k in same if g[k] != w[k]]
        if w["lowest"] == 1 and abs(g["mean"] - w["mean"]) > 1e-9 * abs(w["mean"]):
            diffs.append(f"tag {tag}: mean: union {g['mean']}, inputs {w['mean']}")
    assert not diffs, "\n".join(diffs)
    check_processor(fallout, interop, "merged")


def test_split_logs_read_identically_in_java(fallout, interop):
    assert interop.split.returncode == 0, interop.split.stderr
    want = interop.expected["mixed"]
    files = {interop.split_dir / f"{tag or 'default'}.mixed.hlog": tag for tag in want}
    assert sorted(interop.split_dir.iterdir()) == sorted(files)
    diffs = []
    for f, tag in files.items():
        got = interop.read["split"].by_tag(f)
        assert list(got) == [tag], f"{f.name} holds {list(got)}"
        # Java reads the split log as fallout does, and as GenLog recorded that tag.
        mine = summary(fallout, f)
        assert list(mine) == [tag]
        diffs += differences(mine[tag], got[tag], what=f"{f.name}: ")
        diffs += differences(mine[tag], want[tag], what=f"{f.name} vs GenLog: ")
    assert not diffs, "\n".join(diffs)
    check_processor(fallout, interop, "split")


def test_recorded_log_reads_identically_in_java(fallout, interop):
    """`fallout hdr record` (values on stdin) writes what Java, recording the same values,
    would hold; Java reads the log back with the same statistics."""
    assert interop.record.returncode == 0, interop.record.stderr
    mine = summary(fallout, interop.recorded)
    assert_same(mine, interop.read["recorded"].by_tag(), where="recorded: ")
    assert_same(mine, interop.read["recorded-by-java"].by_tag(), times=False, where="recorded vs Java recording: ")
    check_processor(fallout, interop, "recorded")


# ---- (c) the vectors of tests/data/hdr through both ----

def test_vectors_read_identically_in_c_and_java(fallout, interop):
    diffs = []
    for path in [VECTORS / v for v in JAVA_READABLE] + [interop.hiccup]:
        want = interop.read["vectors"].by_tag(path)
        assert want, f"java read nothing from {path.name}"
        source = HICCUP if path == interop.hiccup else path
        mine = summary(fallout, source)
        if sorted(mine, key=str) != sorted(want, key=str):
            diffs.append(f"{path.name}: tags {sorted(mine, key=str)}, java {sorted(want, key=str)}")
            continue
        for tag in want:
            diffs += differences(mine[tag], want[tag], what=f"{path.name} tag {tag}: ")
    assert not diffs, "\n".join(diffs)


def test_java_generated_sample_gives_its_documented_values(fallout, interop):
    """tests/data/hdr/README.md's figures, from fallout and from HistogramLogProcessor (also
    run from the command line, as users run it)."""
    got = summary(fallout, SAMPLE)
    documented = {
        None: {"count": 30005, "p50": 8187903, "p90": 21020671, "p99": 29130751, "p99.9": 29933567,
               "max": 500170751},
        "write": {"count": 3000, "p50": 10002431, "p90": 18006015, "p99": 19808255, "p99.9": 19988479,
                  "max": 20004863},
    }
    for tag, want in documented.items():
        assert {k: got[tag][k] for k in want} == want, f"tag {tag}"
    check_processor(fallout, interop, "sample")


def test_fallout_csv_matches_fallouts_expected_csv(fallout):
    name = "phase1.block8--read-from-table-one--success.nb-histogram-with-tags"
    p = fallout("hdr", "csv", VECTORS / f"{name}.hdr")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == (VECTORS / f"{name}.csv").read_text().splitlines()


# ---- (d) malformed logs are refused ----

def malformed_cases():
    """(name, text, line of the fault) for logs fallout must refuse."""
    # a valid histogram: the one of the vector whose fault is its tag key
    good_b64 = (VECTORS / "test_tagged_invalid_tag_key.txt").read_text().strip().split(",")[-1]
    raw = base64.b64decode(good_b64)

    def b64(b):
        return base64.b64encode(b).decode()

    head = "#[Histogram log format version 1.3]\n#[StartTime: 1700000000.000 (seconds since epoch)]\n"
    good = f"0.000,1.000,0.459,{good_b64}\n"
    cases = [(f.name, f.read_text(), 1) for f in sorted(VECTORS.glob("test_tagged_*.txt"))]
    cases += [
        ("bad-base64", head + good + "1.000,1.000,0.459,HISTFAAA!!!!\n", 4),
        ("truncated-histogram", head + good + f"1.000,1.000,0.459,{b64(raw[:24])}\n", 4),
        ("wrong-cookie", head + f"0.000,1.000,0.459,{b64(b'0123' + raw[4:])}\n", 3),
        ("corrupt-zlib", head + f"0.000,1.000,0.459,{b64(raw[:8] + bytes(len(raw) - 8))}\n", 3),
        ("length-past-end", head + f"0.000,1.000,0.459,{b64(raw[:4] + (4096).to_bytes(4, 'big') + raw[8:])}\n", 3),
        ("missing-field", head + good + f"1.000,0.459,{good_b64}\n", 4),
        ("bad-length", head + f"0.000,1.0x0,0.459,{good_b64}\n", 3),
        ("garbage-line", head + good + good + "hello, world\n", 5),
        ("empty-histogram-field", head + "0.000,1.000,0.459,\n", 3),
    ]
    return cases


@pytest.mark.parametrize("name,text,line", malformed_cases(), ids=[c[0] for c in malformed_cases()])
def test_malformed_log_is_refused(fallout, tmp_path, name, text, line):
    log = tmp_path / name
    log.write_text(text)
    for sub in (["summary", "--json"], ["csv"], ["merge", "-o", tmp_path / "out.hdr"], ["split", "-o", tmp_path]):
        p = fallout("hdr", *sub, log)
        assert p.returncode > 0, f"hdr {sub[0]} accepted {name} ({p.returncode}): {p.stdout}"
        err = p.stderr.strip()
        assert err.startswith(f"fallout: hdr {sub[0]}: "), err
        assert f"{log}:{line}: " in err, f"hdr {sub[0]} on {name}: the message must say where: {err}"
        assert len(err.splitlines()) == 1, err
        assert '"tags"' not in p.stdout


def test_missing_log_is_refused(fallout, tmp_path):
    p = fallout("hdr", "summary", tmp_path / "nope.hdr")
    assert p.returncode > 0
    assert str(tmp_path / "nope.hdr") in p.stderr and "no such file" in p.stderr.lower(), p.stderr
