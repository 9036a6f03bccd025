"""`fallout exec`: runs of Fallout's corpus give the outcomes of EXPECTED.md, with
ordering and concurrency asserted through the history; the artifacts follow Fallout's
layout; abort and kill -9 leave nothing behind.
"""
import json
import os
import signal
import subprocess

import pytest

from conftest import DATA, ROOT
from runs import assert_state_clean, execute, history, read_testrun, verdicts, wait_for

CORPUS = DATA / "corpus"

OUTCOMES = {
    "fakes.yaml": "PASSED",
    "fakes-edited.yaml": "PASSED",
    "template-test-yamls/complete-defaults.yaml": "PASSED",
    "template-test-yamls/complete-defaults-with-run-params.yaml": "PASSED",
    "testrunner-test-yamls/fakes.yaml": "PASSED",
    "testrunner-test-yamls/abort-fake.yaml": "PASSED",
    "nested-phase-yamls/serial-top-phases.yaml": "PASSED",
    "nested-phase-yamls/serial-sub-phases.yaml": "PASSED",
    "nested-phase-yamls/n-depth-phases.yaml": "PASSED",
    "nested-phase-yamls/multiple-phases-with-subphases.yaml": "PASSED",
    "nested-phase-yamls/modules-with-subphases.yaml": "PASSED",
    "nested-phase-yamls/depth-two-phases.yaml": "PASSED",
    "nested-phase-yamls/bad-regex.yaml": "FAILED",
    "failtest.yaml": "FAILED",
    "noemit.yaml": "FAILED",
    "valid-runlevels.yaml": "PASSED",
    "invalid-runlevels.yaml": "FAILED",
    "multithreadedemit.yaml": "PASSED",
    "sleep.yaml": "PASSED",
    "phase-lifetime-module.yaml": "PASSED",
}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_corpus_outcome(fallout_test, state, tmp_path, name):
    out = tmp_path / "run"
    r = execute(fallout_test, state, out, CORPUS / name)
    want = OUTCOMES[name]
    assert r.returncode == (0 if want == "PASSED" else 1), r.stderr
    tr = read_testrun(out)
    assert tr["state"] == want, r.stderr
    assert f"fallout: {want}" in r.stderr
    assert_state_clean(state)
    ops = history(out)
    # The harness brackets every module: start first, then end, then info completed.
    for proc in {o["process"] for o in ops}:
        mine = [o for o in ops if o["process"] == proc]
        assert mine[0]["type"] == "start", proc
        assert [o["type"] for o in mine[-2:]] == ["end", "info"] and mine[-1]["value"] == "completed"


def test_corpus_fail_with_parameter(fallout_test, state, tmp_path):
    r = execute(fallout_test, state, tmp_path / "run", CORPUS / "template-test-yamls/complete-defaults.yaml",
                "dummy_module=fail")
    assert r.returncode == 1
    assert read_testrun(tmp_path / "run")["state"] == "FAILED"


def test_failtest_verdicts(fallout_test, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout_test, state, out, CORPUS / "failtest.yaml")
    v = verdicts(out)
    assert v["verify_success"] is False
    assert v["verify_omitted_failures"] is True
    assert "FAIL   checker verify_success (nofail)" in r.stderr
    assert "PASS   checker verify_omitted_failures (nofail)" in r.stderr
    assert read_testrun(out)["failedDuring"] == "CHECKING_ARTIFACTS"


def test_noemit_records_an_error(fallout_test, state, tmp_path):
    out = tmp_path / "run"
    execute(fallout_test, state, out, CORPUS / "noemit.yaml")
    errors = [o for o in history(out) if o["type"] == "error"]
    assert [o["process"] for o in errors] == ["no_emit"]
    assert verdicts(out)["fallout-no_error"] is False


def test_multithreaded_emit_counts(fallout_test, state, tmp_path):
    out = tmp_path / "run"
    execute(fallout_test, state, out, CORPUS / "multithreadedemit.yaml")
    infos = [o for o in history(out) if o["process"] == "emit" and o["type"] == "info"]
    assert len(infos) == 11


def test_phase_lifetime_repeats(fallout_test, state, tmp_path):
    out = tmp_path / "run"
    execute(fallout_test, state, out, CORPUS / "phase-lifetime-module.yaml")
    ops = history(out)
    oks = [o for o in ops if o["process"] == "phase_lifetime_sleep" and o["type"] == "ok"]
    assert 9 <= len(oks) <= 11
    # It stopped once the run-once sleep ended: its end comes after the other's end.
    end_of = {o["process"]: i for i, o in enumerate(ops) if o["type"] == "end"}
    assert end_of["phase_lifetime_sleep"] > end_of["sleep"]


def test_serial_phases_are_ordered(fallout_test, state, tmp_path):
    out = tmp_path / "run"
    execute(fallout_test, state, out, CORPUS / "nested-phase-yamls/serial-top-phases.yaml")
    ops = history(out)
    # Each text module ends before the next one starts.
    for a, b in zip("12345", "2345"):
        end_a = max(i for i, o in enumerate(ops) if o["process"] == f"text{a}")
        start_b = min(i for i, o in enumerate(ops) if o["process"] == f"text{b}")
        assert end_a < start_b


def test_siblings_run_at_the_same_time(fallout, state, tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("workload:\n  phases:\n    - a:\n        module: sleep\n        properties: {duration: 300ms}\n"
                 "      b:\n        module: sleep\n        properties: {duration: 300ms}\n"
                 "    - c:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 0, r.stderr
    ops = history(out)
    idx = {(o["process"], o["type"]): i for i, o in enumerate(ops)}
    # Both started before either ended; the next phase started after both ended.
    assert max(idx[("a", "start")], idx[("b", "start")]) < min(idx[("a", "end")], idx[("b", "end")])
    assert idx[("c", "start")] > max(idx[("a", "end")], idx[("b", "end")])


def test_mark_for_reuse(fallout_test, state, tmp_path):
    first, second = tmp_path / "run1", tmp_path / "run2"
    r = execute(fallout_test, state, first, CORPUS / "mark_for_reuse.yaml")
    assert r.returncode == 0, r.stderr
    summary = json.loads((first / "ensemble-summary.json").read_text())
    server = [g for g in summary["groups"] if g["name"] == "server"][0]
    assert server["runlevel"] == "STARTED_SERVICES_RUNNING"
    r = execute(fallout_test, state, second, CORPUS / "mark_for_reuse.yaml")
    assert r.returncode == 0, r.stderr
    log = (second / "server" / "fallout-nodegroup.log").read_text()
    assert "state check: the nodes are at STARTED_SERVICES_RUNNING" in log
    assert "RESERVING" not in log  # not set up again


def test_artifacts_layout(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, ROOT / "examples" / "hello-nodes.yaml")
    assert r.returncode == 0, r.stderr
    for f in ["testrun.json", "fallout-shared.log", "fallout-warnings.log", "fallout-errors.log",
              "ensemble-summary.json", "controller/jepsen-history.json", "server/fallout-nodegroup.log",
              "server/node0/fallout-node.log", "server/node2/fallout-node.log",
              "controller/checkers/checker-no_failures.log"]:
        assert (out / f).is_file(), f
    assert (out / "fallout-errors.log").read_text() == ""
    tr = read_testrun(out)
    assert tr["state"] == "PASSED" and tr["failedDuring"] is None
    assert tr["templateParams"] == {}
    assert "node.count: 3" in tr["definition"]


def test_each_node_sees_its_own_address(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, ROOT / "examples" / "hello-nodes.yaml")
    assert r.returncode == 0, r.stderr
    addrs = []
    for n in range(3):
        log = (out / "server" / f"node{n}" / "fallout-node.log").read_text()
        line = [l for l in log.splitlines() if l.startswith(f"hello from node {n} at ")][0]
        addrs.append(line.split()[-1])
    assert len(set(addrs)) == 3
    assert all(a.startswith("127.0.") and a.endswith(f".{i + 1}") for i, a in enumerate(addrs))
    summary = json.loads((out / "ensemble-summary.json").read_text())
    server = [g for g in summary["groups"] if g["name"] == "server"][0]
    assert [n["address"] for n in server["nodes"]] == addrs


def test_failing_script_fails_the_run(fallout, state, tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("workload:\n  phases:\n    - s:\n        module: bash\n        properties:\n"
                 "          script: exit 3\n  checkers:\n    ok:\n      checker: nofail\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    assert verdicts(out)["ok"] is False
    assert "FAIL   checker ok (nofail)" in r.stderr


def test_output_folder_must_be_new(fallout, state, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "x").write_text("x")
    r = execute(fallout, state, out, ROOT / "examples" / "hello-nodes.yaml")
    assert r.returncode == 2
    assert "is not empty" in r.stderr


def test_invalid_definition_runs_nothing(fallout, state, tmp_path):
    r = execute(fallout, state, tmp_path / "run", ROOT / "docs" / "examples" / "broken.yaml")
    assert r.returncode == 2
    assert "nothing was run" in r.stderr
    assert not (tmp_path / "run").exists()


def test_default_output_folder(fallout, state, tmp_path):
    r = fallout("exec", ROOT / "examples" / "hello-nodes.yaml", cwd=tmp_path,
                env={"FALLOUT_STATE_DIR": str(state)})
    assert r.returncode == 0, r.stderr
    runs = list((tmp_path / "runs" / "hello-nodes").iterdir())
    assert len(runs) == 1 and read_testrun(runs[0])["testRunId"] == runs[0].name


def slow(seconds):
    """Two nodes each running a script that starts a long sleep in the background."""
    return ("ensemble:\n  server:\n    node.count: 2\n    provisioner: local\n  client: server\n"
            "workload:\n  phases:\n    - busy:\n        module: bash\n        properties:\n"
            f"          script: |\n            sleep {seconds} &\n            echo started > started\n"
            "            wait\n")


def pgrep(pattern):
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).stdout


def started_scripts(state):
    return list((state / "work").rglob("started")) if (state / "work").exists() else []


def test_abort(fallout, state, tmp_path):
    p = tmp_path / "slow.yaml"
    p.write_text(slow(301))
    out = tmp_path / "run"
    proc = subprocess.Popen([fallout.path, "exec", "-o", str(out), str(p)], stderr=subprocess.PIPE,
                            env={**os.environ, "FALLOUT_STATE_DIR": str(state)}, text=True)
    assert wait_for(lambda: len(started_scripts(state)) == 2)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)  # a second one must not skip teardown
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    tr = read_testrun(out)
    assert tr["state"] == "ABORTED" and tr["failedDuring"] == "RUNNING"
    assert "DESTROYED" in (out / "server" / "fallout-nodegroup.log").read_text()
    assert_state_clean(state)
    assert pgrep("sleep 301") == b""


def test_kill_9_then_cleanup(fallout, state, tmp_path):
    p = tmp_path / "slow.yaml"
    p.write_text(slow(302))
    out = tmp_path / "run"
    env = {**os.environ, "FALLOUT_STATE_DIR": str(state)}
    proc = subprocess.Popen([fallout.path, "exec", "-o", str(out), str(p)], stderr=subprocess.DEVNULL, env=env)
    assert wait_for(lambda: len(started_scripts(state)) == 2)
    proc.kill()
    proc.wait()
    assert pgrep("sleep 302") != b""
    r = fallout("cleanup", env={"FALLOUT_STATE_DIR": str(state)})
    assert r.returncode == 0, r.stderr
    assert "1 run" in r.stdout
    assert wait_for(lambda: pgrep("sleep 302") == b"", 10)
    assert_state_clean(state)
    # The addresses are free again: a new run gets the same block.
    r = execute(fallout, state, tmp_path / "again", ROOT / "examples" / "hello-nodes.yaml")
    assert r.returncode == 0, r.stderr


# The cluster is named by the provisioner's `name`: a group that names it without
# mark_for_reuse takes the kept cluster over and tears it down.
REUSE = ("ensemble:\n  server:\n    name: kept\n    node.count: 2\n{{#keep}}\n    mark_for_reuse: true\n{{/keep}}\n"
         "    provisioner:\n      name: local\n      properties:\n        name: kept-cluster\n  client: server\n"
         "workload:\n  phases:\n    - touch:\n        module: bash\n        properties:\n"
         "          script: echo run >> marks; wc -l < marks\n")


def test_local_cluster_reuse(fallout, state, tmp_path):
    p = tmp_path / "reuse.yaml"
    p.write_text(REUSE)
    runs = [tmp_path / f"run{i}" for i in range(3)]
    # 1: set up and kept. 2: found running (node folders still there), not set up again.
    for out in runs[:2]:
        r = execute(fallout, state, out, p, "keep=true")
        assert r.returncode == 0, r.stderr
    log = (runs[1] / "kept" / "fallout-nodegroup.log").read_text()
    assert "state check: the nodes are at STARTED_SERVICES_RUNNING" in log
    assert "RESERVING" not in log
    node_log = (runs[1] / "kept" / "node0" / "fallout-node.log").read_text()
    assert node_log.rstrip().endswith("2")  # the second mark in the same node folder
    assert (state / "clusters" / "kept-cluster").exists()
    # 3: the same cluster without mark_for_reuse is taken over and torn down.
    r = execute(fallout, state, runs[2], p, "keep=false")
    assert r.returncode == 0, r.stderr
    log = (runs[2] / "kept" / "fallout-nodegroup.log").read_text()
    assert "DESTROYED" in log.splitlines()[-1]
    assert not (state / "clusters" / "kept-cluster").exists()
    assert_state_clean(state)


def test_kept_cluster_that_died_is_set_up_again(fallout, state, tmp_path):
    p = tmp_path / "reuse.yaml"
    p.write_text(REUSE)
    assert execute(fallout, state, tmp_path / "a", p, "keep=true").returncode == 0
    # Someone removed the nodes' folders: the state check must not trust the record.
    import shutil
    for d in (state / "clusters" / "kept-cluster").rglob("node1"):
        if d.is_dir():
            shutil.rmtree(d)
    r = execute(fallout, state, tmp_path / "b", p, "keep=true")
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "b" / "kept" / "fallout-nodegroup.log").read_text()
    assert "RESERVING" in log
    assert execute(fallout, state, tmp_path / "c", p, "keep=false").returncode == 0
