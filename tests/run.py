#!/usr/bin/python3
"""Runs fallout's tests and ends with one line: `N passed, N failed`.

  tests/run.py --unit BIN... --e2e DIR

Unit tests are cmocka programs (tests/unit/test_*.c); each prints its own summary, which
is parsed. A program that dies without a summary counts as one failure. End-to-end tests
are pytest files under DIR, run with this interpreter (Debian's python3 with pytest).
Skipped tests are reported separately and never counted as passed.
"""
import os
import re
import subprocess
import sys
import time


def run_unit(binaries):
    passed = failed = 0
    env = dict(os.environ)
    env.setdefault("FO_TEST_DATA", os.path.abspath("tests/data"))
    for b in binaries:
        start = time.monotonic()
        p = subprocess.run([b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        out = p.stdout.decode("utf-8", "replace")
        ok = re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M)
        bad = re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M)
        n_ok = sum(int(x) for x in ok)
        n_bad = sum(int(x) for x in bad)
        if not ok and not bad:
            n_bad = 1  # died before its summary
        if p.returncode != 0 and n_bad == 0:
            n_bad = 1
        passed += n_ok
        failed += n_bad
        name = os.path.basename(b)
        took = time.monotonic() - start
        if n_bad:
            sys.stdout.write(out)
            print(f"unit {name}: {n_ok} passed, {n_bad} failed (exit {p.returncode}) [{took:.1f}s]")
        else:
            print(f"unit {name}: {n_ok} passed [{took:.1f}s]")
            for line in out.splitlines():  # figures a test wants shown, e.g. spec counts
                if line.startswith("summary: "):
                    print("  " + line[len("summary: "):])
        sys.stdout.flush()
    return passed, failed, 0


def run_e2e(directory):
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", directory]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    if p.returncode == 5:  # no tests collected: the suite did not run, which is a failure
        print("e2e: no tests were collected", file=sys.stderr)
        return 0, 1, 0
    tail = out.strip().splitlines()[-1] if out.strip() else ""
    counts = {}
    for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", tail):
        counts[word.rstrip("s") if word.startswith("error") else word] = int(n)
    passed = counts.get("passed", 0)
    failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("xpassed", 0)
    skipped = counts.get("skipped", 0) + counts.get("xfailed", 0)
    if p.returncode != 0 and failed == 0:
        failed = 1
    return passed, failed, skipped


def main(argv):
    unit, e2e = [], None
    mode = None
    for a in argv:
        if a == "--unit":
            mode = "unit"
        elif a == "--e2e":
            mode = "e2e"
        elif mode == "unit":
            unit.append(a)
        elif mode == "e2e":
            e2e = a
    total = [0, 0, 0]
    if unit:
        for i, v in enumerate(run_unit(unit)):
            total[i] += v
    if e2e:
        for i, v in enumerate(run_e2e(e2e)):
            total[i] += v
    line = f"{total[0]} passed, {total[1]} failed"
    if total[2]:
        line += f", {total[2]} skipped"
    print(line)
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
