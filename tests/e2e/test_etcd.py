"""The `etcd` configuration manager, for real: fallout starts a static etcd cluster on local
nodes, waits until it is healthy, a bash module writes and reads keys through the facts
the manager publishes, and teardown leaves no process, folder or state behind. A cluster
kept with mark_for_reuse is found by asking the members; a member that cannot start fails
the run with etcd's own words.

Runs the real binary (env FALLOUT, default bin/fallout) and Debian's etcd and etcdctl
(`make deps` installs them). Each test has its own state folder.
"""
import os
import re
import signal
from pathlib import Path

import pytest

from conftest import ROOT
from runs import (addresses, assert_found_running, assert_state_clean, execute, group_log, node_log, pgrep,
                  read_testrun, require, wait_for)

EXAMPLE = ROOT / "examples" / "etcd.yaml"


@pytest.fixture(autouse=True)
def etcd_installed():
    require("etcd", "etcdctl")


def etcd_pids(state):
    """Pids of etcd processes whose data folder lies in this test's state folder."""
    return pgrep("-f", f"^etcd .*--data-dir={re.escape(str(state))}/")


def assert_nothing_left(state):
    assert etcd_pids(state) == []
    assert_state_clean(state, clusters=True)


def test_example_forms_a_cluster_serves_keys_and_leaves_nothing(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, EXAMPLE, "keys=20")
    assert r.returncode == 0, r.stderr
    assert read_testrun(out)["state"] == "PASSED"
    # Healthy before RUNNING: the wait is logged before the group reaches it.
    log = group_log(out)
    assert log.index("etcd: 3 members healthy") < log.index("-> STARTED_SERVICES_RUNNING")
    # The member list, as each member saw it at the end: three members, all started.
    for n in range(3):
        table = (out / "server" / f"node{n}" / "etcd-member-list.txt").read_text()
        assert len(re.findall(r"\|\s*started\s*\|", table)) == 3, table
        assert "published local member to cluster through raft" in (out / "server" / f"node{n}" / "etcd.log").read_text()
        assert f"node{n} reads 20 keys" in node_log(out, n)
    # The contact points were published, and each member listened on its own address.
    addrs = addresses(out)
    endpoints = ",".join(f"http://{a}:2379" for a in addrs)
    assert f"published etcd:endpoints = {endpoints}" in node_log(out, 0)
    assert f"published etcd:endpoint = http://{addrs[1]}:2379" in node_log(out, 1)
    assert_nothing_left(state)


KEPT = """\
ensemble:
  server:
    node.count: 3
{{#keep}}
    mark_for_reuse: true
{{/keep}}
    provisioner:
      name: local
      properties:
        name: kept-etcd
    configuration_manager: etcd
  client: server
workload:
  phases:
    - touch:
        module: bash
        properties:
          target.ordinals: 0
          script: |
            set -e
            ep=<<provider:server:0:etcd:endpoints>>
            old=$(etcdctl --endpoints $ep get runs --print-value-only)
            etcdctl --endpoints $ep put runs "${old}x"
            echo "runs=${old}x"
"""


def test_kept_cluster_is_found_healthy_and_keeps_its_data(fallout, state, tmp_path):
    p = tmp_path / "kept.yaml"
    p.write_text(KEPT)
    runs = [tmp_path / f"run{i}" for i in range(3)]
    r = execute(fallout, state, runs[0], p, "keep=true")
    assert r.returncode == 0, r.stderr
    assert len(etcd_pids(state)) == 3
    # The second run asks the members, finds them healthy, and uses them as they are.
    r = execute(fallout, state, runs[1], p, "keep=true")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[1])
    assert_found_running(log)
    assert "runs=xx" in node_log(runs[1], 0)  # the key written by the first run is there
    assert "published etcd:endpoints = " in node_log(runs[1], 0)
    # Without mark_for_reuse, the kept cluster is taken over and torn down.
    r = execute(fallout, state, runs[2], p, "keep=false")
    assert r.returncode == 0, r.stderr
    assert "runs=xxx" in node_log(runs[2], 0)
    assert_nothing_left(state)


def test_kept_cluster_that_lost_a_member_is_built_again(fallout, state, tmp_path):
    p = tmp_path / "kept.yaml"
    p.write_text(KEPT)
    assert execute(fallout, state, tmp_path / "a", p, "keep=true").returncode == 0
    pids = etcd_pids(state)
    assert len(pids) == 3
    os.kill(pids[0], signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{pids[0]}").exists())
    r = execute(fallout, state, tmp_path / "b", p, "keep=true")
    assert r.returncode == 0, r.stderr
    log = group_log(tmp_path / "b")
    assert "is not whole" in log and "RESERVING" in log  # set up anew
    assert "runs=x\n" in node_log(tmp_path / "b", 0)  # a fresh cluster: no old data
    assert execute(fallout, state, tmp_path / "c", p, "keep=false").returncode == 0
    assert_nothing_left(state)


def test_member_that_cannot_start_fails_the_run(fallout, state, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("ensemble:\n  server:\n    node.count: 2\n    provisioner: local\n"
                 "    configuration_manager:\n      name: etcd\n      properties:\n"
                 "        extra.args: [--no-such-flag]\n  client: server\n"
                 "workload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["state"] == "FAILED" and tr["failedDuring"] == "SETTING_UP"
    assert re.search(r"service 'etcd' on server/node[01] exited unexpectedly", r.stderr), r.stderr
    # etcd's own words reach the artifacts.
    assert "flag provided but not defined: -no-such-flag" in (out / "server" / "node0" / "etcd.log").read_text()
    assert_nothing_left(state)


def test_cluster_that_does_not_become_healthy_in_time_fails(fallout, state, tmp_path):
    # The one member is told of a second that never comes: without a quorum it stays
    # unhealthy, and the wait gives up when startup.timeout passes.
    p = tmp_path / "slow.yaml"
    p.write_text("ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n"
                 "    configuration_manager:\n      name: etcd\n      properties:\n"
                 "        startup.timeout: 1s\n"
                 "        extra.args: ['--initial-cluster=node0=http://<<provider:server:0:node:address>>:2380,"
                 "ghost=http://127.0.0.1:9']\n"
                 "  client: server\nworkload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    assert "etcd: the cluster is not healthy after 1s (startup.timeout)" in r.stderr
    assert_nothing_left(state)
