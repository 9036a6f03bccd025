"""The `ssh` provisioner against real SSH servers, never a mock.

Two test hosts are made here: network namespaces joined by a veth pair, 10.250.0.1/30 in
the first and 10.250.0.2/30 in the second (addresses that exist only inside them), each
with its own OpenSSH sshd on port 22 (host keys, authorized_keys and pid file in a temp
folder; a client key made here). fallout runs inside the first namespace, so it reaches
both hosts (one locally, one over the veth) and no other address. The namespaces, the
sshds and the temp folders go at the end, whatever happened.

A group of two ssh nodes runs a bash module on both (each sees its own address), a
script-managed HTTP server on each (started, used from both nodes, stopped), its log
collected back; teardown leaves no remote folder and no process. A run killed with
kill -9 is cleaned up by `fallout cleanup`, which reconnects with the recorded key.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from runs import require, wait_until

SSHD = "/usr/sbin/sshd"
ADDRS = ("10.250.0.1", "10.250.0.2")

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the test hosts are network namespaces: run the tests as root")


@pytest.fixture(autouse=True)
def tools_installed():
    require("ip", "ssh-keygen")
    assert os.access(SSHD, os.X_OK), f"{SSHD} is missing: run `make deps`"


def run(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True, **kw)


class Hosts:
    """Two sshd hosts in namespaces made by the fixture."""

    def __init__(self, tmp):
        tag = f"{os.getpid() % 100000}"
        self.ns = [f"fo-ssh-{tag}-a", f"fo-ssh-{tag}-b"]
        self.dev = [f"fossha{tag}", f"fosshb{tag}"]
        self.tmp = tmp
        self.key = tmp / "client_key"
        self.remote = tmp / "remote"
        self.sshd = []

    def up(self):
        for ns in self.ns:
            run("ip", "netns", "add", ns)
        run("ip", "link", "add", self.dev[0], "netns", self.ns[0], "type", "veth", "peer", "name", self.dev[1],
            "netns", self.ns[1])
        for ns, dev, addr in zip(self.ns, self.dev, ADDRS):
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fallout-test", "-f", self.key)
        auth = self.tmp / "authorized_keys"
        shutil.copy(f"{self.key}.pub", auth)
        auth.chmod(0o600)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        for i, (ns, addr) in enumerate(zip(self.ns, ADDRS)):
            d = self.tmp / f"host{i}"
            d.mkdir()
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d / "host_key")
            cfg = d / "sshd_config"
            cfg.write_text(f"""Port 22
ListenAddress {addr}
HostKey {d}/host_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {auth}
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
MaxSessions 50
MaxStartups 50
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
            log = open(d / "sshd.log", "w")
            self.sshd.append(subprocess.Popen(["ip", "netns", "exec", ns, SSHD, "-D", "-e", "-f", str(cfg)],
                                              stdout=log, stderr=subprocess.STDOUT))
        probe = "import socket,sys; socket.create_connection((sys.argv[1], 22), 1).close()"
        for addr in ADDRS:
            wait_until(lambda a=addr: run("ip", "netns", "exec", self.ns[0], "python3", "-c", probe, a,
                                          check=False).returncode == 0, 15, f"sshd on {addr}")

    def down(self):
        for p in self.sshd:
            p.terminate()
        for p in self.sshd:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in self.ns:
            for pid in self.pids(ns):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run("ip", "netns", "del", ns, check=False)  # the veth pair goes with them

    def pids(self, ns):
        r = run("ip", "netns", "pids", ns, check=False)
        return [int(p) for p in r.stdout.split()]

    def processes(self, ns):
        """What runs inside ns but sshd itself (its listener, and the sessions of connections
        closing): a leftover of a run."""
        out = []
        for pid in self.pids(ns):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if not cmd.startswith(("sshd:", SSHD)):
                out.append(f"{pid} {cmd}")
        return out

    def exists_in(self, ns, path):
        return run("ip", "netns", "exec", ns, "test", "-e", path, check=False).returncode == 0


@pytest.fixture
def hosts():
    """The two hosts, in a temp folder of their own (keys, configs, the remote folders,
    fallout's state and artifacts), all removed at the end."""
    tmp = Path(tempfile.mkdtemp(prefix="fo-ssh-"))
    h = Hosts(tmp)
    try:
        h.up()
        yield h
    finally:
        h.down()
        shutil.rmtree(tmp, ignore_errors=True)


def definition(h, tmp, extra_phase=""):
    text = f"""
ensemble:
  server:
    node.count: 2
    provisioner:
      name: ssh
      properties:
        hosts: [{ADDRS[0]}, {ADDRS[1]}]
        user.name: root
        private.key.location: {h.key}
        remote.dir: {h.remote}
    configuration_manager:
      name: script
      properties:
        configure: |
          mkdir -p www
          echo "hello from $FALLOUT_NODE_NAME" > www/index.html
        service: |
          echo "serving on $FALLOUT_NODE_ADDRESS, inside $(ip -4 -o addr show | grep -o '10\\.250\\.0\\.[0-9]*')"
          exec python3 -m http.server 8000 --bind "$FALLOUT_NODE_ADDRESS" --directory www
        ready: python3 -c "import urllib.request as u; u.urlopen('http://$FALLOUT_NODE_ADDRESS:8000/', timeout=1)"
        startup.timeout: 30s
  client: server

workload:
  phases:
    - hello:
        module: bash
        properties:
          script: |
            set -e
            echo "node $FALLOUT_NODE_ORDINAL is $FALLOUT_NODE_ADDRESS, inside $(ip -4 -o addr show | grep -o '10\\.250\\.0\\.[0-9]*'), in $PWD"
            test -f www/index.html
            for a in $FALLOUT_GROUP_ADDRESSES; do
              python3 -c "import urllib.request as u, sys; print(u.urlopen('http://' + sys.argv[1] + ':8000/').read().decode().strip())" $a
            done
{extra_phase}
  checkers:
    no_failures:
      checker: nofail
"""
    p = tmp / "ssh.yaml"
    p.write_text(text)
    return p


def fallout_in(h, fallout, state, *args, timeout=180, **kw):
    """Runs fallout inside the first host's namespace (it reaches both hosts from there)."""
    env = dict(os.environ, FALLOUT_STATE_DIR=str(state))
    return subprocess.run(["ip", "netns", "exec", h.ns[0], fallout.path, *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout, **kw)


def node_log(out, n):
    return (Path(out) / "server" / f"node{n}" / "fallout-node.log").read_text()


def test_two_hosts_run_a_script_a_service_and_leave_nothing(hosts, fallout):
    tmp_path = hosts.tmp
    state, out = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    t0 = time.monotonic()
    r = fallout_in(hosts, fallout, state, "exec", "-o", out, definition(hosts, tmp_path))
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fallout: PASSED" in r.stderr, r.stderr
    run_id = json.loads((out / "testrun.json").read_text())["testRunId"]
    for n, addr in enumerate(ADDRS):
        log = node_log(out, n)
        remote = f"{hosts.remote}/{run_id}/server/node{n}"
        # the module ran on its own host, in its remote folder, and reached both servers
        assert f"node {n} is {addr}, inside {addr}, in {remote}" in log, log
        assert log.count("hello from node") == 2, log
        assert "hello from node0" in log and "hello from node1" in log, log
        assert "started service 'script'" in log and "stopped service 'script'" in log, log
        # the service's log came back over SFTP, written on its own host
        svc = (out / "server" / f"node{n}" / "service.log").read_text()
        assert f"serving on {addr}, inside {addr}" in svc, svc
        assert '"GET / HTTP/1.1" 200' in svc, svc
    # teardown removed the remote folders (seen from inside each host) and every process
    for ns in hosts.ns:
        assert not hosts.exists_in(ns, f"{hosts.remote}/{run_id}"), os.listdir(hosts.remote)
        assert hosts.processes(ns) == []
    assert not any((state / "active").iterdir())
    assert (state / "ssh" / "known_hosts").read_text().count("ssh-ed25519") == 2
    print(f"two ssh hosts: a run with a service took {took:.2f}s")


def test_cleanup_reconnects_after_kill_9(hosts, fallout):
    tmp_path = hosts.tmp
    state, out = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    linger = """
    - linger:
        module: bash
        properties:
          script: sleep 300
"""
    env = dict(os.environ, FALLOUT_STATE_DIR=str(state))
    p = subprocess.Popen(["ip", "netns", "exec", hosts.ns[0], fallout.path, "exec", "-o", str(out),
                          str(definition(hosts, tmp_path, linger))], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        run_id = wait_until(lambda: json.loads((out / "testrun.json").read_text()).get("testRunId")
                            if (out / "testrun.json").exists() else None, 60, "the run's id")
        wait_until(lambda: all(any("sleep 300" in x for x in hosts.processes(ns)) for ns in hosts.ns), 90,
                   "the linger module on both hosts")
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    remote = hosts.remote / run_id
    assert remote.is_dir()
    assert all(hosts.processes(ns) for ns in hosts.ns)  # the services and the sleeps are left
    t0 = time.monotonic()
    r = fallout_in(hosts, fallout, state, "cleanup")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    assert "removed folder" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "killed process group" in r.stdout + r.stderr, r.stdout + r.stderr
    for ns in hosts.ns:
        assert not hosts.exists_in(ns, str(remote))
        wait_until(lambda n=ns: hosts.processes(n) == [], 10, "no process left")
    assert not any(x for x in (state / "active").iterdir() if not x.name.startswith("."))
    print(f"cleanup of two ssh hosts after kill -9 took {took:.2f}s")
