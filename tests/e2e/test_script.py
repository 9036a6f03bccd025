"""The `script` configuration manager, for real: a tiny HTTP server brought by scripts is
installed, started as a supervised service, waited for with `ready`, used by a bash module,
found again through `status` when kept between runs, and leaves no process or folder
behind. Failing scripts and a dying service fail the run with their own words.

Runs the real binary (env FALLOUT, default bin/fallout) with Python's http.server and curl.
Each test has its own state folder.
"""
import re

import pytest

from conftest import ROOT
from runs import (addresses, assert_found_running, assert_state_clean, execute, group_log, node_log, pgrep,
                  read_testrun, require, write)

EXAMPLE = ROOT / "examples" / "script-service.yaml"


@pytest.fixture(autouse=True)
def tools_installed():
    require("python3", "curl")


def server_pids(addrs, port=8000):
    return [pid for a in addrs for pid in pgrep("-f", f"http.server {port} --bind {re.escape(a)}( |$)")]


def assert_nothing_left(state, out):
    assert server_pids(addresses(out)) == []
    assert_state_clean(state, clusters=True)


def test_example_serves_pages_and_leaves_nothing(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, EXAMPLE, "nodes=3")
    assert r.returncode == 0, r.stderr
    assert read_testrun(out)["state"] == "PASSED"
    log = group_log(out)
    # The steps ran in order, and the group was ready before it counted as running.
    order = ["script: 'install' ran on 3 nodes", "script: 'configure' ran on 3 nodes",
             "script: ready on 3 nodes", "-> STARTED_SERVICES_RUNNING", "script: 'unconfigure' ran on 3 nodes"]
    assert [log.index(s) for s in order] == sorted(log.index(s) for s in order)
    # Every node fetched every node's page.
    for n in range(3):
        assert all(f"hello from node{k}" in node_log(out, n) for k in range(3))
        # Collected: the service's output and the files `logs` names.
        assert '"GET / HTTP/1.1" 200' in (out / "server" / f"node{n}" / "service.log").read_text()
        assert (out / "server" / f"node{n}" / "logs" / "setup.log").read_text() == \
            f"configured node{n} at {addresses(out)[n]}\n"
    assert_nothing_left(state, out)


ENV = """\
ensemble:
  server:
    node.count: 2
    provisioner: local
    configuration_manager:
      name: script
      properties:
        configure: |
          env | sort > env.txt
          echo "peer0=<<provider:server:0:node:address>>" >> env.txt
        logs: env.txt
  client: server
workload:
  phases:
    - x:
        module: noop
"""


def test_scripts_get_the_bash_module_environment_and_references(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, ENV), env={"NOT_FOR_SCRIPTS": "1", "FALLOUT_EXTRA": "x"})
    assert r.returncode == 0, r.stderr
    addrs = addresses(out)
    for n in range(2):
        env = dict(line.split("=", 1) for line in
                   (out / "server" / f"node{n}" / "env.txt").read_text().splitlines())
        assert env["FALLOUT_NODE_ORDINAL"] == str(n)
        assert env["FALLOUT_NODE_NAME"] == f"node{n}"
        assert env["FALLOUT_NODE_GROUP"] == "server"
        assert env["FALLOUT_NODE_ADDRESS"] == addrs[n]
        assert env["FALLOUT_GROUP_ADDRESSES"] == " ".join(addrs)
        assert env["FALLOUT_NODE_DIR"].endswith(f"/server/node{n}")
        assert env["FALLOUT_EXTRA"] == "x"  # fallout's own FALLOUT_* variables pass
        assert "NOT_FOR_SCRIPTS" not in env  # the rest of its environment does not
        assert env["peer0"] == addrs[0]
    assert_nothing_left(state, out)


def test_failing_script_fails_its_step_with_its_output(fallout, state, tmp_path):
    p = write(tmp_path, "ensemble:\n  server:\n    node.count: 2\n    provisioner: local\n"
                        "    configuration_manager:\n      name: script\n      properties:\n"
                        "        install: |\n          echo checking\n"
                        "          [ $FALLOUT_NODE_ORDINAL = 0 ] || { echo 'no compiler here'; exit 4; }\n"
                        "  client: server\nworkload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["failedDuring"] == "SETTING_UP"
    assert "script: 'install' failed on server/node1: exit status 4: checking\nno compiler here" in tr["failureReason"]
    assert_nothing_left(state, out)


def test_ready_that_never_succeeds_fails_after_the_timeout(fallout, state, tmp_path):
    p = write(tmp_path, "ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n"
                        "    configuration_manager:\n      name: script\n      properties:\n"
                        "        service: exec sleep 300\n"
                        "        ready: echo 'port 9 closed' >&2; false\n"
                        "        startup.timeout: 1s\n"
                        "  client: server\nworkload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    reason = read_testrun(out)["failureReason"]
    assert "script: 'ready' still fails on server/node0 after 1s (startup.timeout)" in reason
    assert "exit status 1: port 9 closed" in reason
    assert pgrep("-f", "^sleep 300$") == []
    assert_nothing_left(state, out)


def test_service_that_dies_fails_the_run(fallout, state, tmp_path):
    p = write(tmp_path, "ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n"
                        "    configuration_manager:\n      name: script\n      properties:\n"
                        "        service: echo 'bad config line 3'; exit 2\n"
                        "        ready: false\n"
                        "  client: server\nworkload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    assert "service 'script' on server/node0 exited unexpectedly (status 2)" in read_testrun(out)["failureReason"]
    # Its words are in the artifacts, although the group never ran.
    assert "bad config line 3" in (out / "server" / "node0" / "service.log").read_text()
    assert_nothing_left(state, out)


KEPT = """\
ensemble:
  server:
    node.count: 2
{{#keep}}
    mark_for_reuse: true
{{/keep}}
    provisioner:
      name: local
      properties:
        name: kept-script
    configuration_manager:
      name: script
      properties:
        install: echo installed >> installs
        service: exec python3 -m http.server 8000 --bind $FALLOUT_NODE_ADDRESS
        ready: curl -sf http://$FALLOUT_NODE_ADDRESS:8000/ > /dev/null
        status: test -f healthy && curl -sf http://$FALLOUT_NODE_ADDRESS:8000/ > /dev/null
        start: touch healthy
  client: server
workload:
  phases:
    - look:
        module: bash
        properties:
          script: |
            curl -sf http://$FALLOUT_NODE_ADDRESS:8000/ > /dev/null && echo "serving, installs=$(wc -l < installs)"
            {{#break}}rm healthy{{/break}}
"""


def test_kept_service_is_found_through_status_and_restarted_when_it_fails(fallout, state, tmp_path):
    p = write(tmp_path, KEPT)
    runs = [tmp_path / f"run{i}" for i in range(4)]
    r = execute(fallout, state, runs[0], p, "keep=true", "break=false")
    assert r.returncode == 0, r.stderr
    assert len(server_pids(addresses(runs[0]))) == 2
    # Found running through `status`: nothing set up again. This run breaks it on the way out.
    r = execute(fallout, state, runs[1], p, "keep=true", "break=true")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[1])
    assert_found_running(log)
    # `status` now fails: the services are started again, without installing again.
    r = execute(fallout, state, runs[2], p, "keep=true", "break=false")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[2])
    assert "state check: the nodes are at STARTED_SERVICES_CONFIGURED" in log
    assert "STARTED_STARTING_SERVICES" in log and "STARTED_CONFIGURING_SERVICES" not in log
    assert "script: 'status' says not running: exit status 1" in node_log(runs[2], 0)
    assert "serving, installs=1" in node_log(runs[2], 1)
    assert len(server_pids(addresses(runs[2]))) == 2
    # Taken over without mark_for_reuse: torn down.
    r = execute(fallout, state, runs[3], p, "keep=false", "break=false")
    assert r.returncode == 0, r.stderr
    assert_nothing_left(state, runs[3])


def test_log_patterns_stay_inside_the_node_folder(fallout, tmp_path):
    p = write(tmp_path, "ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n"
                        "    configuration_manager:\n      name: script\n      properties:\n"
                        "        logs: [../secrets, /etc/passwd, 'ok/*.log']\n"
                        "  client: server\nworkload:\n  phases:\n    - x:\n        module: noop\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert "'../secrets' in 'logs' of configuration manager 'script' must be a path inside" in r.stderr
    assert "'/etc/passwd' in 'logs'" in r.stderr
    assert "ok/*.log" not in r.stderr
