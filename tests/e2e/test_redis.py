"""The `redis` configuration manager, for real: fallout starts Redis servers (standalone,
or a Redis Cluster with replicas) on local nodes, a bash module uses them through the facts
the manager publishes, and teardown leaves no process, folder or state behind. A cluster
kept with mark_for_reuse is found by asking the servers; one that lost a server is built
again; a configuration redis refuses fails the run with redis's own words.

Runs the real binary (env FALLOUT, default bin/fallout) and Debian's redis-server and
redis-cli (`make deps` installs them). Each test has its own state folder.
"""
import os
import re
import signal

import pytest

from conftest import ROOT
from runs import (addresses, assert_found_running, assert_state_clean, execute, group_log, node_log, pgrep,
                  read_testrun, require, write)


@pytest.fixture(autouse=True)
def redis_installed():
    require("redis-server", "redis-cli")


def redis_pids(addrs, port=6379):
    """Pids of redis-server processes listening at the given addresses (their title)."""
    return [pid for a in addrs for pid in pgrep("-f", f"^redis-server {re.escape(a)}:{port}( |$)")]


def assert_nothing_left(state, out, group="server"):
    assert redis_pids(addresses(out, group)) == []
    assert_state_clean(state, clusters=True)


STANDALONE = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
    configuration_manager:
      name: redis
      properties:
        config:
          maxmemory: 50mb
          maxmemory-policy: allkeys-lru
  client:
    node.count: 1
    provisioner: local
workload:
  phases:
    - setget:
        module: bash
        properties:
          target.group: client
          script: |
            set -e
            cli="redis-cli -h <<provider:server:0:redis:address>> -p <<provider:server:0:redis:port>>"
            $cli SET greeting hello
            echo "got $($cli GET greeting) from <<provider:server:0:redis:host_port>>"
            test "$($cli GET greeting)" = hello
            test "$($cli CONFIG GET maxmemory-policy | tail -n 1)" = allkeys-lru
  checkers:
    ok:
      checker: nofail
"""


def test_standalone_set_and_get(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, STANDALONE))
    assert r.returncode == 0, r.stderr + group_log(out)
    assert read_testrun(out)["state"] == "PASSED"
    [addr] = addresses(out)
    assert f"got hello from {addr}:6379" in node_log(out, 0, "client")
    node = out / "server" / "node0"
    assert "Ready to accept connections" in (node / "redis.log").read_text()
    conf = (node / "redis.conf").read_text()
    assert f"bind {addr}\n" in conf and "maxmemory 50mb\n" in conf
    info = (node / "redis-info.txt").read_text()
    assert "redis_version:" in info and f"tcp_port:6379" in info
    assert_nothing_left(state, out)


def cluster(nodes, replicas=0, script_extra=""):
    return f"""\
ensemble:
  server:
    node.count: {nodes}
    provisioner: local
    configuration_manager:
      name: redis
      properties:
        mode: cluster
        replicas: {replicas}
  client: server
workload:
  phases:
    - check:
        module: bash
        properties:
          target.ordinals: 0
          script: |
            set -e
            cp=<<provider:server:0:redis:contact_points>>
            first=${{cp%%,*}}
            cli="redis-cli -c -h ${{first%:*}} -p ${{first##*:}}"
            $cli CLUSTER INFO > info.txt
            grep -q '^cluster_state:ok' info.txt
            grep -q '^cluster_slots_assigned:16384' info.txt
            for i in $(seq 1 200); do echo "SET key$i value$i"; done | $cli > /dev/null
            for i in $(seq 1 200); do echo "GET key$i"; done | $cli | grep -v "^-> Redirected" > got.txt
            for i in $(seq 1 200); do echo "value$i"; done | diff - got.txt
            # every master holds some of the keys
            for hp in ${{cp//,/ }}; do
              n=$(redis-cli -h ${{hp%:*}} -p ${{hp##*:}} DBSIZE)
              echo "$hp holds $n keys"
              test "$n" -gt 0
            done
            echo "masters: $(echo ${{cp//,/ }} | wc -w)"
            {script_extra}
  checkers:
    ok:
      checker: nofail
"""


@pytest.mark.parametrize("nodes,replicas", [(3, 0), (6, 1)])
def test_cluster_forms_and_serves_every_slot(fallout, state, tmp_path, nodes, replicas):
    extra = ("test $($cli CLUSTER NODES | grep -c slave) = 3" if replicas else "")
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, cluster(nodes, replicas, extra)))
    assert r.returncode == 0, r.stderr + group_log(out)
    log = node_log(out, 0)
    assert "masters: 3" in log
    assert len(re.findall(r"holds \d+ keys", log)) == 3
    assert f"cluster of 3 shards x (1 master + {replicas} replica" in group_log(out)
    for n in range(nodes):
        node = out / "server" / f"node{n}"
        assert "cluster_state:ok" in (node / "redis-cluster-info.txt").read_text()
        lines = (node / "redis-cluster-nodes.txt").read_text().strip().splitlines()
        assert len(lines) == nodes
        role = "master" if n < 3 else "replica"
        assert f"published redis:role = {role}" in node_log(out, n)
    assert_nothing_left(state, out)


REUSE = """\
policy: noeviction
---
ensemble:
  server:
    name: kept
    node.count: 3
{{#keep}}
    mark_for_reuse: true
{{/keep}}
    provisioner:
      name: local
      properties:
        name: redis-kept
    configuration_manager:
      name: redis
      properties:
        mode: cluster
        config:
          maxmemory-policy: {{policy}}
  client: server
workload:
  phases:
    - count:
        module: bash
        properties:
          target.ordinals: 0
          script: |
            set -e
            echo "runs: $(redis-cli -c -h <<provider:kept:0:redis:address>> INCR runs)"
"""


def runs_counted(out):
    return [int(x) for x in re.findall(r"^runs: (\d+)$", node_log(out, 0, "kept"), re.M)]


def test_kept_cluster_is_reused_then_torn_down(fallout, state, tmp_path):
    p = write(tmp_path, REUSE)
    runs = [tmp_path / f"run{i}" for i in range(3)]
    r = execute(fallout, state, runs[0], p, "keep=true")
    assert r.returncode == 0, r.stderr + group_log(runs[0], "kept")
    addrs = addresses(runs[0], "kept")
    pids = redis_pids(addrs)
    assert len(pids) == 3  # left running
    assert runs_counted(runs[0]) == [1]

    r = execute(fallout, state, runs[1], p, "keep=true")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[1], "kept")
    assert "redis: state check: 3 servers answer, cluster_state:ok on every node" in log
    assert_found_running(log)
    assert runs_counted(runs[1]) == [2]  # the same servers, holding the first run's data
    assert sorted(redis_pids(addrs)) == sorted(pids)

    # 3: not kept, and configured differently: the servers start anew, then all is torn down.
    r = execute(fallout, state, runs[2], p, "keep=false", "policy=allkeys-lru")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[2], "kept")
    assert "redis: state check: redis.conf of node0 is not what the test gives" in log
    assert "RESERVING" not in log and "STARTED_STARTING_SERVICES" in log
    assert runs_counted(runs[2]) == [1]
    assert "maxmemory-policy allkeys-lru" in (runs[2] / "kept" / "node0" / "redis.conf").read_text()
    assert "DESTROYED" in log.splitlines()[-1]
    assert_nothing_left(state, runs[2], "kept")


def test_kept_cluster_that_lost_a_server_is_built_again(fallout, state, tmp_path):
    p = write(tmp_path, REUSE)
    first, second = tmp_path / "a", tmp_path / "b"
    assert execute(fallout, state, first, p, "keep=true").returncode == 0
    addrs = addresses(first, "kept")
    [victim] = redis_pids(addrs[1:2])
    os.kill(victim, signal.SIGKILL)
    r = execute(fallout, state, second, p, "keep=false")
    assert r.returncode == 0, r.stderr + group_log(second, "kept")
    log = group_log(second, "kept")
    assert "STARTED_SERVICES_RUNNING" not in log.split("state check: the nodes are at")[1].splitlines()[0]
    assert "cluster of 3 shards" in log  # formed anew
    assert runs_counted(second) == [1]  # fresh servers
    assert_nothing_left(state, second, "kept")


BAD = """\
ensemble:
  server:
    node.count: 3
    provisioner: local
    configuration_manager:
      name: redis
      properties:
        mode: cluster
        config:
          maxmemory: {value}
  client: server
workload:
  phases:
    - never:
        module: bash
        properties:
          script: echo should not run
"""


@pytest.mark.parametrize("value,message", [
    ("100zz", "'maxmemory 100zz': argument must be a memory value"),
    ("1 2 3", "'maxmemory 1 2 3': wrong number of arguments"),
])
def test_config_redis_refuses_fails_the_start(fallout, state, tmp_path, value, message):
    out = tmp_path / "run"
    p = write(tmp_path, BAD.format(value=value))
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["state"] == "FAILED" and tr["failedDuring"] == "SETTING_UP"
    reason = tr["failureReason"]
    assert "STARTED_STARTING_SERVICES failed: redis-server refused the configuration of server/node0" in reason
    assert message in reason
    assert f"(config written at {p}:10:11)" in reason
    assert "should not run" not in node_log(out, 0)
    assert_nothing_left(state, out)


def test_server_that_exits_at_start_fails_the_run(fallout, state, tmp_path):
    # A configuration redis accepts but cannot run with: the server exits as it starts.
    out = tmp_path / "run"
    text = BAD.format(value="50mb").replace("maxmemory: 50mb", "unixsocket: /nonexistent/dir/redis.sock")
    r = execute(fallout, state, out, write(tmp_path, text))
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["failedDuring"] == "SETTING_UP"
    assert "service 'redis' on server/node" in tr["failureReason"] and "exited unexpectedly" in tr["failureReason"]
    log = group_log(out)
    assert "redis: stopped waiting for an answer to PING on server/node" in log
    assert "Failed opening Unix socket" in log  # the end of redis.log, quoted
    assert_nothing_left(state, out)


def test_node_count_must_fit_the_shards(fallout, state, tmp_path):
    out = tmp_path / "run"
    text = cluster(4, 1).replace("replicas: 1", "replicas: 1\n        shards: 3")
    r = execute(fallout, state, out, write(tmp_path, text))
    assert r.returncode == 1
    reason = read_testrun(out)["failureReason"]
    assert ("redis: mode 'cluster' with 3 shards of 2 nodes (1 master + 1 replica) needs node.count 6, "
            "but group 'server' has 4 nodes") in reason
    assert_nothing_left(state, out)


def test_definition_errors(fallout, tmp_path):
    text = STANDALONE.replace("        config:\n", "        shards: 2\n        config:\n          port: 7000\n"
                              "          bad directive: 1\n")
    r = fallout("validate", write(tmp_path, text))
    assert r.returncode == 2
    assert "property 'shards' of configuration manager 'redis' only applies to mode 'cluster'" in r.stderr
    assert "directive 'port' in 'config' of configuration manager 'redis' is written by fallout itself" in r.stderr
    assert "'bad directive' in 'config' of configuration manager 'redis' is not a redis.conf directive" in r.stderr
    bus = cluster(3).replace("replicas: 0", "replicas: 0\n        port: 60000")
    r = fallout("validate", write(tmp_path, bus))
    assert r.returncode == 2 and "the port must be at most 55535" in r.stderr


def test_example_passes(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, ROOT / "examples" / "redis-cluster.yaml")
    assert r.returncode == 0, r.stderr + group_log(out)
    assert read_testrun(out)["state"] == "PASSED"
    assert_nothing_left(state, out)
