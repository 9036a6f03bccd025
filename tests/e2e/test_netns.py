"""The `netns` provisioner, for real: every node is a network namespace with its own address
on the hub's bridge; nodes reach each other by address and by name; the unchanged redis
configuration manager forms a cluster across namespaces; the same definition passes on
`local` and on `netns`; and after every test, and after `kill -9` of exec followed by
`fallout cleanup`, no namespace, hosts folder, interface or process of the test's runs is
left, nor the hub unless another fallout's nodes still use it (other runs may share the
machine: the checks look at this test's runs, named by their run ids).

Needs root (namespaces): the tests that make namespaces are skipped, saying so, when not
run as root. The non-root error is checked for real: as root, fallout is run as `nobody`.
Runs the binary in env FALLOUT (default bin/fallout); each test has its own state folder.
"""
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from runs import (addresses, assert_found_running, assert_state_clean, execute, group_log, node_log, read_json,
                  wait_for)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the netns provisioner needs root: run the tests as root")
EXAMPLE = ROOT / "examples" / "netns-redis.yaml"


def namespaces(run_id=None):
    """fallout's namespaces (`ip netns list`): a run's nodes are fo-<first 8 of its id>-...,
    the hub fo-hub; with run_id, only that run's."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.startswith("fo-")]
    return [n for n in names if run_id is None or n.startswith(f"fo-{run_id[:8]}-")]


def host_links():
    """Interfaces of this machine's own namespace that fallout would have made (fo*)."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return [line.split(":")[1].strip() for line in out.splitlines() if line.split(":")[1].strip().startswith("fo")]


def etc_netns(run_id):
    d = Path("/etc/netns")
    return sorted(p.name for p in d.glob(f"fo-{run_id[:8]}-*")) if d.exists() else []


def live(marker):
    """Processes whose command line holds marker, zombies left out."""
    out = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and not line.lstrip().startswith("Z")]


def working_in(folder):
    """Processes (not zombies) working in folder or below: the nodes' commands and services
    of the runs whose state folder it is, whatever other runs use the same addresses."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            stat = Path(f"/proc/{pid}/stat").read_text()
            args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd.startswith(str(folder)) and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(f"{pid} {args}")
    return found


def run_id(out):
    return read_json(Path(out) / "testrun.json")["testRunId"]


def assert_nothing_left(state, *run_ids):
    """Nothing of these runs is left: namespaces, hosts folders, interfaces on this
    machine's own namespace, the state folder's work area and active runs; the hub only
    while some other fallout's nodes are there."""
    for rid in run_ids:
        assert namespaces(rid) == []
        assert etc_netns(rid) == []
    def hub_gone_or_in_use():
        names = namespaces()
        return "fo-hub" not in names or any(n != "fo-hub" for n in names)
    assert wait_for(hub_gone_or_in_use, 5), "the hub is left with no node on it"
    etc = Path("/etc/netns")
    assert not etc.exists() or any(etc.iterdir()), "an empty /etc/netns is left"
    assert host_links() == []
    assert working_in(state) == []
    assert_state_clean(state)


# Every node serves one line on TCP port 7000 at its own address, then each finds the next
# node by name and connects to it with bash's /dev/tcp (retrying until the server is up).
NODES = r"""
ensemble:
  server:
    node.count: 3
    provisioner:
      name: netns
  client: server
workload:
  phases:
    - serve:
        module: bash
        properties:
          script: |
            python3 -c '
            import os, socket
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((os.environ["FALLOUT_NODE_ADDRESS"], 7000))
            s.listen()
            while True:
                c, _ = s.accept()
                c.sendall(("hello from node%s\n" % os.environ["FALLOUT_NODE_ORDINAL"]).encode())
                c.close()
            ' > /dev/null 2>&1 &
    - reach:
        module: bash
        properties:
          script: |
            set -e
            echo "my address $FALLOUT_NODE_ADDRESS"
            ip -o -4 addr show eth0 | awk '{print "eth0", $4}'
            next=$(( (FALLOUT_NODE_ORDINAL + 1) % 3 ))
            getent hosts server-node$next | awk '{print "resolved", $2, $1}'
            getent hosts server-$next > /dev/null
            for i in $(seq 1 250); do
              if exec 3<>/dev/tcp/server-node$next/7000; then break; fi 2>/dev/null
              sleep 0.02
            done
            read -r line <&3
            echo "got: $line"
  checkers:
    ok:
      checker: nofail
"""


@ROOT_ONLY
def test_three_nodes_reach_each_other_by_name(fallout, state, tmp_path):
    p = tmp_path / "nodes.yaml"
    p.write_text(NODES)
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 0, r.stderr
    addrs = addresses(out, "server")
    assert len(set(addrs)) == 3 and all(a.startswith("10.231.") for a in addrs), addrs
    for n in range(3):
        log = node_log(out, n, "server")
        nxt = (n + 1) % 3
        assert f"my address {addrs[n]}\n" in log  # every node saw its own address
        assert f"eth0 {addrs[n]}/16\n" in log
        assert f"resolved server-node{nxt} {addrs[nxt]}\n" in log
        assert f"got: hello from node{nxt}\n" in log
    assert_nothing_left(state, run_id(out))


@ROOT_ONLY
@pytest.mark.parametrize("provisioner", ["local", "netns"])
def test_same_redis_cluster_definition_on_local_and_netns(fallout, state, tmp_path, provisioner):
    out = tmp_path / "run"
    r = execute(fallout, state, out, EXAMPLE, f"provisioner={provisioner}")
    assert r.returncode == 0, r.stderr
    assert read_json(out / "testrun.json")["state"] == "PASSED"
    servers, client = addresses(out, "server"), addresses(out, "client")
    log = node_log(out, 0, "client")
    for a in servers:
        assert f"{a}:6379 holds " in log
    prefix = "10.231." if provisioner == "netns" else "127.0."
    assert all(a.startswith(prefix) for a in servers + client), servers + client
    if provisioner == "netns":
        assert f"client at {client[0]}" in log
        assert "PONG" in log  # by name: server-node0
        for n, a in enumerate(servers):
            conf = (out / "server" / f"node{n}" / "redis.conf").read_text()
            assert f"cluster-announce-ip {a}\n" in conf
    assert_nothing_left(state, run_id(out))  # the servers too: they worked in the node folders


SLOW = """
ensemble:
  server:
    node.count: 2
    provisioner: netns
  client: server
workload:
  phases:
    - busy:
        module: bash
        properties:
          script: |
            sleep 305 &
            setsid sleep 306 &
            echo started > started
            wait
"""


@ROOT_ONLY
def test_kill_9_then_cleanup(fallout, state, tmp_path):
    p = tmp_path / "slow.yaml"
    p.write_text(SLOW)
    env = {**os.environ, "FALLOUT_STATE_DIR": str(state)}
    proc = subprocess.Popen([fallout.path, "exec", "-o", str(tmp_path / "run"), str(p)],
                            stderr=subprocess.DEVNULL, env=env)
    try:
        assert wait_for(lambda: len(list((state / "work").rglob("started"))) == 2)
    finally:
        proc.kill()
        proc.wait()
    # The run's leftovers: two node namespaces and the hub, hosts folders, processes (one
    # of which left its process group, so only the namespace still holds it).
    rid = [p.name for p in (state / "work").iterdir()][0]
    left = namespaces(rid)
    assert len(left) == 2 and "fo-hub" in namespaces(), left
    assert len(etc_netns(rid)) == 2
    assert len(live("sleep 305")) == 2 and len(live("sleep 306")) == 2
    r = fallout("cleanup", env={"FALLOUT_STATE_DIR": str(state)})
    assert r.returncode == 0, r.stderr
    assert "1 run" in r.stdout
    for ns in left:
        assert f"removed network namespace {ns}" in r.stdout
    assert wait_for(lambda: live("sleep 305") == [] and live("sleep 306") == [], 10)
    assert_nothing_left(state, rid)
    # The addresses are free again: a new run gets them.
    r = execute(fallout, state, tmp_path / "again", EXAMPLE)
    assert r.returncode == 0, r.stderr


REUSE = """
ensemble:
  server:
    name: kept
    node.count: 2
{{#keep}}
    mark_for_reuse: true
{{/keep}}
    provisioner:
      name: netns
      properties:
        name: kept-netns
  client: server
workload:
  phases:
    - touch:
        module: bash
        properties:
          script: echo run >> marks; echo "marks $(wc -l < marks)"; getent hosts kept-node1
"""


@ROOT_ONLY
def test_kept_cluster_keeps_its_namespaces(fallout, state, tmp_path):
    p = tmp_path / "reuse.yaml"
    p.write_text(REUSE)
    r = execute(fallout, state, tmp_path / "a", p, "keep=true")
    assert r.returncode == 0, r.stderr
    kept = namespaces(run_id(tmp_path / "a"))
    assert len(kept) == 2 and "fo-hub" in namespaces()  # the nodes and the hub stay
    r = execute(fallout, state, tmp_path / "b", p, "keep=true")
    assert r.returncode == 0, r.stderr
    assert_found_running(group_log(tmp_path / "b", "kept"))
    assert "marks 2" in node_log(tmp_path / "b", 0, "kept")
    assert namespaces(run_id(tmp_path / "a")) == kept and namespaces(run_id(tmp_path / "b")) == []
    r = execute(fallout, state, tmp_path / "c", p, "keep=false")  # taken over and torn down
    assert r.returncode == 0, r.stderr
    assert_nothing_left(state, *[run_id(tmp_path / x) for x in "abc"])


def as_nobody(fallout, *args):
    """Runs fallout as user nobody (65534) in a folder it may write to, or as we are when
    not root (then we are not root already)."""
    d = Path(tempfile.mkdtemp(prefix="fo-netns-"))
    try:
        d.chmod(0o777)
        definition = d / "t.yaml"
        definition.write_text(NODES)
        definition.chmod(0o644)
        env = {**os.environ, "FALLOUT_STATE_DIR": str(d / "state"), "HOME": str(d)}
        kw = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
        r = subprocess.run([fallout.path, *[str(a).replace("DEF", str(definition)).replace("OUT", str(d / "run"))
                                            for a in args]],
                           capture_output=True, text=True, env=env, cwd=d, timeout=60, **kw)
        testrun = d / "run" / "testrun.json"
        return r, read_json(testrun) if testrun.exists() else None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_not_root_is_a_clear_error(fallout):
    r, testrun = as_nobody(fallout, "exec", "-o", "OUT", "DEF")
    msg = "the netns provisioner needs root (CAP_NET_ADMIN): run as root, or use the local provisioner"
    assert r.returncode == 1, r.stderr
    assert msg in r.stderr
    assert testrun["state"] == "FAILED" and testrun["failedDuring"] == "RESERVING_RESOURCES"
    assert msg in testrun["failureReason"]


def test_validation_needs_no_root(fallout):
    r, _ = as_nobody(fallout, "validate", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
