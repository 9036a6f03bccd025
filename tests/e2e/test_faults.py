"""The fault modules, for real: `kill` (with restart), `pause`, `delete_data` on Redis
servers of the `local` provisioner; `partition` and `throttle` inside the network
namespaces of the `netns` provisioner (refused on `local`, whose nodes share this
machine's network). Every injection and healing is in the history with its times;
healing happens at the fault's end, at once on abort, and, after a `kill -9` of fallout,
in `fallout cleanup` (no stopped process, no nftables table, no qdisc left).

Runs the real binary (env FALLOUT, default bin/fallout) and Debian's redis-server,
redis-cli, nft and tc. Each test has its own state folder. The netns tests need root and
the `netns` provisioner; they are skipped, saying why, without them.
"""
import fcntl
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from runs import assert_state_clean, execute, node_log, read_testrun, require, state_env, wait_for, write


@pytest.fixture(autouse=True)
def redis_installed():
    require("redis-server", "redis-cli")


@pytest.fixture
def state(tmp_path):
    """A private state folder. Other test runs on this machine, with state folders of their
    own, may hold the low loopback blocks (127.0.1.*...): this one starts from a random
    block, holding the locks of the blocks below it while the test runs."""
    d = tmp_path / "state"
    (d / "addresses").mkdir(parents=True)
    held = []
    for g in range(1, random.randint(30, 200)):
        f = open(d / "addresses" / f"127.0.{g}.lock", "w")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(f)
    yield d
    for f in held:
        f.close()


@pytest.fixture
def start(fallout, state):
    """Starts `fallout exec` in the background; whatever a failed test leaves running is
    killed and cleaned up at the end."""
    procs = []

    def run(out, definition):
        p = subprocess.Popen([fallout.path, "exec", "-o", str(out), str(definition)], stderr=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, text=True,
                             env={**os.environ, "FALLOUT_STATE_DIR": str(state)})
        procs.append(p)
        return p
    yield run
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
            fallout("cleanup", env=state_env(state), timeout=120)


def history(out):
    path = Path(out) / "controller" / "jepsen-history.json"
    if not path.exists():
        return []
    ops = []
    for line in path.read_text().splitlines():
        try:
            ops.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line being written
    return ops


def ops_of(out, process):
    return [o for o in history(out) if o["process"] == process]


def events(out, process, action):
    """The inject or heal infos of a fault module: (time in ns, JSON value)."""
    evs = []
    for o in ops_of(out, process):
        if o["type"] == "info" and o.get("mediaType") == "application/json":
            v = json.loads(o["value"])
            if v.get("action") == action:
                evs.append((o["time"], v))
    return evs


def proc_state(pid):
    """The State letter of /proc/PID/status ('T' stopped), or None when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.split()[1]
    except FileNotFoundError:
        return None
    return None


def cleanup(fallout, state, *args):
    r = fallout("cleanup", *args, env=state_env(state), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


REDIS3 = """\
ensemble:
  server:
    node.count: 3
    provisioner:
      name: {provisioner}
    configuration_manager:
      name: redis
  client: server
workload:
  phases:
{phases}
  checkers:
    ok:
      checker: nofail
"""


def redis3(phases, provisioner="local"):
    return REDIS3.format(provisioner=provisioner, phases=phases)


# ---- kill ----

KILL = """\
    - crash:
        module: kill
        properties:
          target.ordinals: 1
          service: redis
          restart.after: 1s
    - ping:
        module: bash
        properties:
          target.ordinals: 0
          script: |
            # a restarted server takes a moment to listen: ask each for up to 10 s
            for a in $FALLOUT_GROUP_ADDRESSES; do
              for i in $(seq 1 100); do
                answer=$(redis-cli -h $a PING 2>/dev/null) && [ "$answer" = PONG ] && break
                sleep 0.1
              done
              echo "$a $answer"
            done
"""


# The same definition on both provisioners, only the provisioner changed.
@pytest.mark.parametrize("provisioner", ["local", "netns"])
def test_kill_restarts_the_service(fallout, state, tmp_path, provisioner):
    if provisioner == "netns":
        need_netns()
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, redis3(KILL, provisioner)))
    assert r.returncode == 0, r.stderr
    assert read_testrun(out)["state"] == "PASSED"
    ops = ops_of(out, "crash")
    assert [o["type"] for o in ops if o["type"] in ("invoke", "ok", "fail")] == ["invoke", "ok"]
    [(t_inject, inject)] = events(out, "crash", "inject")
    [(t_heal, heal)] = events(out, "crash", "heal")
    assert inject["what"] == "inject kill server/node1" and inject["nodes"] == ["server/node1"]
    assert inject["fault"] == "kill" and re.match(r"\d{4}-\d\d-\d\dT", inject["start"])
    assert "redis (process group" in inject["detail"]
    assert heal["what"] == "heal kill server/node1" and heal["start"] == inject["start"]
    assert heal["duration_s"] >= 1.0 and "redis restarted on server/node1" in heal["detail"]
    assert t_heal - t_inject >= 1_000_000_000
    # Killed, then a new server: two pids in the node's log; the kill did not fail the run.
    log = node_log(out, 1)
    pids = re.findall(r"started service 'redis' \(pid (\d+)\)", log)
    assert len(pids) == 2 and pids[0] != pids[1], log
    assert "as the fault asked" in log
    # Every server answers afterwards.
    [ping] = [o for o in ops_of(out, "ping") if o["type"] == "ok"]
    assert ping["value"].count("PONG") == 3, ping["value"]
    assert_state_clean(state)


# ---- pause ----

PAUSE = redis3("""\
    - freeze:
        module: pause
        properties:
          target.ordinals: 0
          duration: 1500ms
      client:
        module: bash
        properties:
          target.ordinals: 1
          script: |
            sleep 0.3
            t0=$EPOCHREALTIME
            answer=$(redis-cli -h <<provider:server:0:node:address>> PING)
            t1=$EPOCHREALTIME
            echo "answer $answer after $(awk "BEGIN { print $t1 - $t0 }") s"
    - after:
        module: bash
        properties:
          target.ordinals: 1
          script: redis-cli -h <<provider:server:0:node:address>> PING
""")


def test_pause_stalls_clients_then_the_server_answers(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, PAUSE))
    assert r.returncode == 0, r.stderr
    [(t_inject, inject)] = events(out, "freeze", "inject")
    [(t_heal, heal)] = events(out, "freeze", "heal")
    assert inject["what"] == "inject pause server/node0"
    assert 1.5 <= heal["duration_s"] < 5 and t_heal - t_inject >= 1_500_000_000
    [ok] = [o for o in ops_of(out, "client") if o["type"] == "ok"]
    m = re.search(r"answer PONG after ([0-9.]+) s", ok["value"])
    assert m, ok["value"]
    assert float(m.group(1)) >= 1.0, ok["value"]  # it waited for the SIGCONT
    [after] = [o for o in ops_of(out, "after") if o["type"] == "ok"]
    assert "PONG" in after["value"]
    assert "continued process group" in node_log(out, 0)


def test_abort_during_a_pause_continues_the_service_at_once(fallout, state, tmp_path, start):
    out = tmp_path / "run"
    d = write(tmp_path, redis3("""\
    - freeze:
        module: pause
        properties:
          target.ordinals: 0
          duration: 5m
"""))
    proc = start(out, d)
    assert wait_for(lambda: events(out, "freeze", "inject"), 60)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert time.monotonic() - t0 < 30  # no waiting out the pause, nor a stop grace period
    [(_, heal)] = events(out, "freeze", "heal")
    assert "error" not in heal
    assert read_testrun(out)["state"] == "ABORTED"
    assert_state_clean(state)


def test_kill_9_during_a_pause_then_cleanup(fallout, state, tmp_path, start):
    out = tmp_path / "run"
    d = write(tmp_path, redis3("""\
    - freeze:
        module: pause
        properties:
          target.ordinals: 0,2
          duration: 5m
"""))
    proc = start(out, d)
    evs = wait_for(lambda: events(out, "freeze", "inject"), 60)
    assert evs, proc.stderr.read() if proc.poll() is not None else "no injection"
    pgids = [int(p) for p in re.findall(r"process group (\d+)", evs[0][1]["detail"])]
    assert len(pgids) == 2
    assert wait_for(lambda: all(proc_state(p) == "T" for p in pgids), 10), [proc_state(p) for p in pgids]
    proc.kill()
    proc.wait()
    # (The kernel may continue them itself: a stopped process group that loses its last
    # parent in the session gets SIGHUP and SIGCONT. The ledger does not count on it.)
    dry = cleanup(fallout, state, "--dry-run")
    for p in pgids:
        assert f"would continue process group {p} (stopped by a fault)" in dry
    assert all(proc_state(p) not in (None, "Z") for p in pgids)  # a dry run touches nothing
    text = cleanup(fallout, state)
    for p in pgids:
        assert f"continuing process group {p} (stopped by a fault)" in text
    assert wait_for(lambda: all(proc_state(p) in (None, "Z") for p in pgids), 15)
    assert_state_clean(state)


# ---- delete_data ----

DELETE = redis3("""\
    - before:
        module: bash
        properties:
          target.ordinals: 0
          script: test -d data
    - wipe:
        module: delete_data
        properties:
          target.ordinals: 0
    - after:
        module: bash
        properties:
          script: if [ -e data ]; then echo "kept $FALLOUT_NODE_NAME"; else echo "gone $FALLOUT_NODE_NAME"; fi
""")


def test_delete_data_removes_the_folder(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, DELETE))
    assert r.returncode == 0, r.stderr
    [(_, inject)] = events(out, "wipe", "inject")
    assert inject["what"] == "inject delete_data server/node0" and inject["detail"] == "removed data"
    assert events(out, "wipe", "heal") == []  # nothing heals a lost disk
    [after] = [o for o in ops_of(out, "after") if o["type"] == "ok"]
    assert "gone node0" in after["value"] and "kept node1" in after["value"] and "kept node2" in after["value"]
    assert_state_clean(state)


def test_delete_data_refuses_a_path_outside_the_node(fallout, state, tmp_path):
    d = write(tmp_path, redis3("""\
    - wipe:
        module: delete_data
        properties:
          path: ../../etc
"""))
    r = fallout("validate", d)
    assert r.returncode == 2
    assert "property 'path' of module 'wipe' must be a path inside the node's folder" in r.stderr


def test_target_count_must_fit_the_ordinals(fallout, tmp_path):
    d = write(tmp_path, redis3("""\
    - crash:
        module: kill
        properties:
          target.ordinals: 0,1
          target.count: 3
"""))
    r = fallout("validate", d)
    assert r.returncode == 2
    assert "'target.count' of module 'crash' is 3 but 'target.ordinals' lists 2 nodes" in r.stderr


def test_random_targets_are_reproducible(fallout, state, tmp_path):
    text = redis3("""\
    - crash:
        module: kill
        properties:
          target.random: true
          seed: 11
          service: redis
          restart.after: 100ms
          iterations: 4
""")
    chosen = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        r = execute(fallout, state, out, write(tmp_path, text))
        assert r.returncode == 0, r.stderr
        chosen.append([v["nodes"] for _, v in events(out, "crash", "inject")])
    assert chosen[0] == chosen[1] and len(chosen[0]) == 4
    assert all(len(n) == 1 for n in chosen[0])


# ---- network faults refuse shared networks ----

@pytest.mark.parametrize("module", ["partition", "throttle"])
def test_network_faults_refuse_local_nodes(fallout, state, tmp_path, module):
    out = tmp_path / "run"
    d = write(tmp_path, redis3(f"""\
    - cut:
        module: {module}
        properties:
          target.ordinals: 0
          duration: 1s
"""))
    r = execute(fallout, state, out, d)
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["state"] == "FAILED"
    assert (f"{module} needs nodes with a network namespace of their own (provisioner netns), and server/node0 "
            "has none (provisioner 'local' of group 'server' cannot give a node a network of its own); fallout "
            "never changes this machine's own network") in tr["failureReason"]
    assert events(out, "cut", "inject") == []
    assert_state_clean(state)


# ---- on netns ----

def need_netns():
    """Skips the test unless run as root (network namespaces need it); fails it when a tool
    the netns faults use is missing."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    require("ip", "nft", "tc")


@pytest.fixture
def netns():
    need_netns()


PARTITION = redis3("""\
    - cut:
        module: partition
        properties:
          target.ordinals: 0
          mode: isolate
          duration: 4s
      probe:
        module: bash
        properties:
          target.ordinals: 1
          script: |
            # connects to node0 until one fails (the partition is up) or 3 s pass
            for i in $(seq 1 30); do
              if ! timeout 0.5 bash -c 'exec 3<>/dev/tcp/<<provider:server:0:node:address>>/6379'; then
                echo "cut off at try $i"; exit 0
              fi
              sleep 0.1
            done
            echo "never cut off"; exit 1
    - healed:
        module: bash
        properties:
          target.ordinals: 1,2
          script: |
            timeout 5 bash -c 'exec 3<>/dev/tcp/<<provider:server:0:node:address>>/6379' && echo reached
""", provisioner="netns")


def test_partition_isolates_a_node_then_heals(fallout, state, tmp_path, netns):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, PARTITION))
    assert r.returncode == 0, r.stderr
    [(t_inject, inject)] = events(out, "cut", "inject")
    [(t_heal, heal)] = events(out, "cut", "heal")
    assert inject["what"] == "inject partition server/node0" and "error" not in heal
    [probe] = [o for o in ops_of(out, "probe") if o["type"] == "ok"]
    assert "cut off at try" in probe["value"]
    assert t_inject <= probe["time"] <= t_heal  # seen cut off while the partition was up
    [healed] = [o for o in ops_of(out, "healed") if o["type"] == "ok"]
    assert healed["value"].count("reached") == 2
    assert_state_clean(state)


THROTTLE = redis3("""\
    - fill:
        module: bash
        properties:
          target.ordinals: 1
          script: head -c 1000000 /dev/urandom | base64 -w0 | head -c 1000000 | redis-cli -h <<provider:server:0:node:address>> -x SET big
    - before:
        module: bash
        properties:
          target.ordinals: 1
          script: |
            t0=$EPOCHREALTIME
            n=$(redis-cli -h <<provider:server:0:node:address>> GET big | wc -c)
            echo "got $n bytes in $(awk "BEGIN { print $EPOCHREALTIME - $t0 }") s"
    - slow:
        module: throttle
        properties:
          target.ordinals: 0
          rate: 2mbit
          duration: 8s
      during:
        module: bash
        properties:
          target.ordinals: 1
          script: |
            sleep 0.5
            t0=$EPOCHREALTIME
            n=$(redis-cli -h <<provider:server:0:node:address>> GET big | wc -c)
            echo "got $n bytes in $(awk "BEGIN { print $EPOCHREALTIME - $t0 }") s"
""", provisioner="netns")


def seconds(out, process):
    [ok] = [o for o in ops_of(out, process) if o["type"] == "ok"]
    m = re.search(r"got (\d+) bytes in ([0-9.e-]+) s", ok["value"])
    assert m and int(m.group(1)) > 1_000_000 - 10, ok["value"]
    return float(m.group(2))


def test_throttle_lowers_throughput(fallout, state, tmp_path, netns):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, THROTTLE))
    assert r.returncode == 0, r.stderr
    before, during = seconds(out, "before"), seconds(out, "during")
    # 1 MB at 2 Mbit/s takes 4 s; unthrottled, a fraction of that.
    assert during >= 3.0 and during > 5 * before, (before, during)
    [(_, heal)] = events(out, "slow", "heal")
    assert "error" not in heal
    assert_state_clean(state)


def ledger_faults(state):
    """The nft and tc entries of the ledgers of the runs listed as active."""
    found = []
    active = state / "active"
    for f in active.iterdir():
        if f.name.startswith("."):
            continue
        ledger = Path(f.read_text().split(" ", 2)[2].strip())
        for line in ledger.read_text().splitlines():
            words = line.split()
            if words and words[0] in ("nft", "tc"):
                found.append(tuple(words))
    return found


def netns_exists(name):
    return Path("/run/netns", name).exists()


@pytest.mark.parametrize("module,props", [("partition", "mode: halves"), ("throttle", "rate: 1mbit")])
def test_kill_9_during_a_network_fault_then_cleanup(fallout, state, tmp_path, netns, start, module, props):
    out = tmp_path / "run"
    d = write(tmp_path, redis3(f"""\
    - cut:
        module: {module}
        properties:
          {props}
          duration: 5m
""", provisioner="netns"))
    proc = start(out, d)
    assert wait_for(lambda: events(out, "cut", "inject"), 60), proc.stderr.read() if proc.poll() is not None else ""
    entries = ledger_faults(state)
    assert entries and all(e[0] == ("nft" if module == "partition" else "tc") for e in entries), entries
    for kind, ns, name in entries:
        if kind == "nft":
            listed = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "tables"], capture_output=True,
                                    text=True).stdout
            assert name in listed
        else:
            shown = subprocess.run(["tc", "-n", ns, "qdisc", "show", "dev", name], capture_output=True,
                                   text=True).stdout
            assert "tbf" in shown
    proc.kill()
    proc.wait()
    text = cleanup(fallout, state)
    assert "1 run" in text
    for kind, ns, name in entries:
        if not netns_exists(ns):
            continue  # the namespace went, and its rules with it
        if kind == "nft":
            listed = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"], capture_output=True,
                                    text=True).stdout
            assert name not in listed
        else:
            shown = subprocess.run(["tc", "-n", ns, "qdisc", "show"], capture_output=True, text=True).stdout
            assert "tbf" not in shown
    assert_state_clean(state)
