#!/usr/bin/env bash
# How fast is fallout's HdrHistogram against Java's (Debian's libhdrhistogram-java, the
# reference)? In one run:
#   1. reading: Java's HistogramLogWriter writes a large interval log (MB megabytes, 10^6
#      bytes: one-second intervals, an untagged histogram and three tagged ones each;
#      bench/java/BigLog.java) into a temporary folder; after checking that both sides
#      give the same numbers, hyperfine times, whole command against whole command:
#        - `fallout hdr summary BIG` (reads, merges per tag, prints percentiles);
#        - Java's `HistogramLogProcessor -i BIG -o OUT` (what Java users run: reads every
#          line, merges the untagged ones, writes per-interval percentiles and a .hgrm);
#        - tests/java/ReadLog.java (reads and merges per tag, prints percentiles: the same
#          work as fallout's summary, so the fairest comparison);
#      then GNU time gives each one's peak memory;
#   2. recording: bench/record_bench.c (built here with cc -O2 against fallout's library)
#      times fo_hdr_record and fo_hdr_record_many over 100M values against plain C loops
#      (summing the values; counts[idx]++ with the index precomputed), and
#      bench/java/RecordBench.java times Java's Histogram.recordValue over the same values.
# It ends with the ratios.
#
# Usage: bench/hdr.sh [MB] [RUNS]   (defaults: 100 MB, 5 timed runs of each command)
# Needs java, javac, libhdrhistogram-java, hyperfine and time (Debian; `make deps`).
# FALLOUT=path/to/fallout and FALLOUT_LIB=path/to/libfallout.a select another build.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
runs=${2:-5}
jar=/usr/share/java/hdrhistogram.jar
for tool in java javac hyperfine cc python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/hdr.sh: $tool is missing (make deps installs it)" >&2; exit 1; }
done
[[ -f $jar ]] || { echo "bench/hdr.sh: $jar is missing: install libhdrhistogram-java (make deps)" >&2; exit 1; }
bin=${FALLOUT:-$PWD/bin/fallout}
lib=${FALLOUT_LIB:-$PWD/build/release/libfallout.a}
[[ -x $bin && -f $lib ]] || make -s
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fallout-hdr-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
classes=$tmp/classes
cp="$jar:$classes"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building the Java programs and bench/record_bench.c"
javac -d "$classes" -cp "$jar" bench/java/*.java tests/java/ReadLog.java tests/java/HdrStats.java
cc -O2 -std=c17 -Wall -Wextra -Werror -Isrc -Ibuild/gen -o "$tmp/record_bench" bench/record_bench.c "$lib" \
	$(pkg-config --libs zlib) -lm -lpthread

echo "== writing a $mb MB interval log with Java's HistogramLogWriter"
big=$tmp/big.hdr
java -cp "$cp" BigLog "$big" "$mb"
printf 'log: %s bytes, %s lines\n' "$(stat -c %s "$big")" "$(wc -l <"$big")"

echo "== checking that fallout and Java give the same numbers"
"$bin" hdr summary --json "$big" >"$tmp/fallout.json"
java -cp "$cp" ReadLog "$big" >"$tmp/java.jsonl"
python3 - "$tmp/fallout.json" "$tmp/java.jsonl" <<'EOF'
import json, sys
mine = {t["tag"]: t for t in json.load(open(sys.argv[1]))["tags"]}
java = {d["tag"]: d for d in map(json.loads, open(sys.argv[2]))}
names = {"p50": "50", "p90": "90", "p99": "99", "p99.9": "99.9", "p99.99": "99.99"}
assert sorted(mine, key=str) == sorted(java, key=str), (list(mine), list(java))
for tag, j in java.items():
    m = mine[tag]
    assert [m[k] for k in ("count", "min", "max")] == [j[k] for k in ("count", "min", "max")], tag
    assert all(m[n] == j["percentiles"][p] for n, p in names.items()), tag
    assert abs(m["mean"] - j["mean"]) <= 1e-9 * j["mean"], tag
    print(f"  tag {tag}: {m['intervals']} intervals, {m['count']} values, p99 {m['p99']}, max {m['max']}: same")
EOF

echo "== reading: whole commands, $runs runs each after a warm-up"
hyperfine --shell=none --warmup 1 --runs "$runs" --export-json "$tmp/read.json" --export-markdown "$tmp/read.md" \
	-n 'fallout hdr summary' "$bin hdr summary $big" \
	-n 'Java HistogramLogProcessor' "java -cp $jar org.HdrHistogram.HistogramLogProcessor -i $big -o $tmp/hlp" \
	-n 'Java read + merge per tag (ReadLog)' "java -cp $cp ReadLog $big"
cat "$tmp/read.md"
echo
echo "| command | peak RSS (MiB) |"
echo "|:---|---:|"
peak() {
	local name=$1
	shift
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1
	printf '| %s | %d |\n' "$name" "$(($(tail -1 "$tmp/rss") / 1024))"
}
peak 'fallout hdr summary' "$bin" hdr summary "$big"
peak 'Java HistogramLogProcessor' java -cp "$jar" org.HdrHistogram.HistogramLogProcessor -i "$big" -o "$tmp/hlp"
peak 'Java read + merge per tag (ReadLog)' java -cp "$cp" ReadLog "$big"

echo
echo "== recording: 104,857,600 values into a 1 ns .. 1 h, 3-digit histogram (best of 3)"
"$tmp/record_bench" | tee "$tmp/record.txt"
java -cp "$cp" RecordBench | tee -a "$tmp/record.txt"

echo
echo "== ratios"
python3 - "$tmp/read.json" "$tmp/record.txt" "$(stat -c %s "$big")" <<'EOF'
import json, re, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[3])
ours = res["fallout hdr summary"]


def cpu(r):
    return r["user"] + r["system"]


print(f"fallout hdr summary: {ours['mean']:.3f} s ± {ours['stddev']:.3f} wall, {cpu(ours):.3f} s CPU "
      f"({size / ours['mean'] / 1e6:.0f} MB/s of log)")
for name in ("Java HistogramLogProcessor", "Java read + merge per tag (ReadLog)"):
    r = res[name]
    print(f"{name}: {r['mean']:.3f} s ± {r['stddev']:.3f} wall, {cpu(r):.3f} s CPU: fallout is "
          f"{r['mean'] / ours['mean']:.1f}x faster (wall), {cpu(r) / cpu(ours):.1f}x less CPU")
ns = dict(re.findall(r"^(.+): ([\d.]+) ns/value$", open(sys.argv[2]).read(), re.M))
rec = float(ns["c fo_hdr_record"])
for name in ("c sum", "c counts[idx]++"):
    print(f"fo_hdr_record {rec:.2f} ns/value = {rec / float(ns[name]):.1f}x the plain loop '{name}' "
          f"({float(ns[name]):.2f} ns)")
j = float(ns["java Histogram.recordValue"])
print(f"Java Histogram.recordValue {j:.2f} ns/value: fo_hdr_record is {j / rec:.2f}x as fast")
many = float(ns["c fo_hdr_record_many"])
print(f"fo_hdr_record_many {many:.2f} ns/value: {j / many:.2f}x as fast as Java, {rec / many:.2f}x fo_hdr_record")
EOF
