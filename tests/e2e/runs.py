"""Helpers shared by the end-to-end tests that run `fallout exec`: running a definition with a
private state folder, reading what a run left in its output folder, and checking that a run
left nothing behind."""
import json
import shutil
import subprocess
import time
from pathlib import Path


def state_env(state, env=None):
    """The environment that points fallout at the test's private state folder."""
    return {"FALLOUT_STATE_DIR": str(state), **(env or {})}


def execute(runner, state, out, definition, *params, env=None, timeout=180):
    """`fallout exec -o OUT DEFINITION PARAMS...` with the test's private state folder."""
    return runner("exec", "-o", out, definition, *params, env=state_env(state, env), timeout=timeout)


def write(tmp_path, text, name="t.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def read_json(path):
    return json.loads(Path(path).read_text())


def read_testrun(out):
    return read_json(Path(out) / "testrun.json")


def verdicts(out):
    return {c["alias"]: c["passed"] for c in read_testrun(out)["results"]["checkers"]}


def history(out, process=None):
    """The run's Jepsen history (every op, or only those of one process)."""
    with open(Path(out) / "controller" / "jepsen-history.json") as f:
        ops = [json.loads(line) for line in f]
    return [o for o in ops if process is None or o["process"] == process]


def checker_log(out, alias):
    return (Path(out) / "controller" / "artifact_checkers" / f"artifact_checker-{alias}.log").read_text()


def node_log(out, n, group="server"):
    return (Path(out) / group / f"node{n}" / "fallout-node.log").read_text()


def group_log(out, group="server"):
    return (Path(out) / group / "fallout-nodegroup.log").read_text()


def addresses(out, group="server"):
    summary = read_json(Path(out) / "ensemble-summary.json")
    return [n["address"] for g in summary["groups"] if g["name"] == group for n in g["nodes"]]


def assert_state_clean(state, clusters=False):
    """The state folder holds no work area and no active run (and, with clusters, no kept
    cluster)."""
    work = state / "work"
    assert not work.exists() or not any(work.iterdir()), list(work.iterdir())
    active = state / "active"
    runs = [p for p in active.iterdir() if not p.name.startswith(".")] if active.exists() else []
    assert runs == [], runs
    if clusters:
        kept = state / "clusters"
        assert not kept.exists() or not any(kept.iterdir()), list(kept.iterdir())


def wait_for(pred, timeout=20, interval=0.02):
    """Polls pred until it returns something true (which is returned) or timeout seconds pass
    (then its last value is returned)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def wait_until(pred, timeout=30, what="condition", interval=0.05):
    """Polls pred until it returns something true, and returns it; fails the test, naming
    what it waited for, when timeout seconds pass first."""
    v = wait_for(pred, timeout, interval)
    assert v, f"timed out waiting for {what}"
    return v


def assert_found_running(log):
    """The group log shows a kept cluster found running and used as it was: nothing reserved,
    no service started."""
    assert "state check: the nodes are at STARTED_SERVICES_RUNNING" in log
    assert "RESERVING" not in log and "STARTED_STARTING_SERVICES" not in log


def require(*programs):
    """Fails the test when a program it needs is not installed."""
    for prog in programs:
        assert shutil.which(prog), f"{prog} is missing: run `make deps`"


def pgrep(*args):
    """Pids that `pgrep ARGS...` finds."""
    p = subprocess.run(["pgrep", *args], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]
