"""Node metrics, for real: while a run's workload goes, fallout samples the machine, each
node's service and module processes, and Redis's own figures once a second into
metrics/machine.jsonl and <group>/<node>/metrics.jsonl; a load driver that keeps the
machine's CPUs busy gets a note in the summary and in testrun.json, an idle one does not.

Runs the real binary (env FALLOUT, default bin/fallout) and Debian's redis-server (`make
deps` installs it). Each test has its own state folder.
"""
import json
import os
import shutil
import time

from runs import execute, read_testrun, write

SATURATION_NOTE = "load driver on client/node0 saturated its CPU"


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def notes(out):
    return read_testrun(out)["notes"]


REDIS_AND_BURNER = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
    configuration_manager: redis
  client:
    node.count: 1
    provisioner: local
workload:
  phases:
    - busy:
        module: bash
        properties:
          target.group: client
          script: |
            cli="redis-cli -h <<provider:server:0:redis:address>> -p <<provider:server:0:redis:port>>"
            for i in $(seq 20); do $cli SET k$i v >/dev/null; $cli GET k$i >/dev/null; done
            timeout 3 sh -c 'while :; do :; done' || true
"""


def test_metrics_of_a_run_with_redis_and_a_busy_client(fallout, state, tmp_path):
    assert shutil.which("redis-server"), "redis-server is missing: run `make deps`"
    out = tmp_path / "run"
    before = time.time()
    r = execute(fallout, state, out, write(tmp_path, REDIS_AND_BURNER))
    assert r.returncode == 0, r.stderr
    machine = lines(out / "metrics" / "machine.jsonl")
    server = lines(out / "server" / "node0" / "metrics.jsonl")
    client = lines(out / "client" / "node0" / "metrics.jsonl")
    for series in (machine, server, client):
        # one line a second on the workload's clock (about 3 s), plus a last partial one
        assert 2 <= len(series) <= 6, series
        ts = [x["t"] for x in series]
        assert ts == sorted(ts) and 0.5 < ts[0] < 1.5, ts
        assert all(before < x["wall"] < time.time() for x in series)
    m = machine[-1]
    for field in ("cpu.busy_pct", "cpu.user_pct", "cpu.system_pct", "cpu.iowait_pct", "mem.used_bytes",
                  "mem.available_bytes", "net.rx_bytes_per_s", "net.lo.tx_bytes_per_s", "fallout.cpu_pct",
                  "fallout.sampler_cpu_pct"):
        assert field in m, (field, m)
    assert m["cpu.cores"] == os.cpu_count()
    assert 0 <= m["cpu.busy_pct"] <= 100
    # the server's process and Redis's own figures (rates from the second sample on)
    assert all(x["service.processes"] >= 1 and x["service.rss_bytes"] > 0 for x in server)
    for field in ("redis.ops_per_s", "redis.clients", "redis.used_memory_bytes"):
        assert all(field in x for x in server), (field, server)
    assert any("redis.commands_per_s" in x for x in server)
    assert "redis.commands_total" not in server[-1]
    # the client's script and its burner: busy for the whole workload
    assert all(x["driver.processes"] >= 1 for x in client[:2])
    assert max(x["driver.cpu_pct"] + x["driver.cpu_wait_pct"] for x in client) > 50, client
    assert "service.cpu_pct" not in client[0]
    assert "node metrics:" in (out / "fallout-shared.log").read_text()


BURNER = """\
ensemble:
  server:
    node.count: 1
    provisioner: local
  client:
    node.count: 1
    provisioner: local
workload:
  phases:
    - burn:
        module: bash
        properties:
          target.group: client
          script: |
            %s
"""

ALL_CORES = "for i in $(seq $(nproc)); do timeout 4 sh -c 'while :; do :; done' & done; wait"
IDLE = "sleep 4"


def test_a_load_driver_saturating_the_cpus_is_noted(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, BURNER % ALL_CORES))
    assert r.returncode == 0, r.stderr
    [note] = notes(out)
    assert note.startswith(SATURATION_NOTE), note
    assert note.endswith("its latency numbers are suspect")
    assert f"NOTE   {note}" in r.stderr
    assert note in (out / "fallout-warnings.log").read_text()
    client = lines(out / "client" / "node0" / "metrics.jsonl")
    assert len(client) >= 3


def test_an_idle_load_driver_is_not_noted(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, BURNER % IDLE))
    assert r.returncode == 0, r.stderr
    assert notes(out) == []
    assert "NOTE" not in r.stderr
    client = lines(out / "client" / "node0" / "metrics.jsonl")
    assert len(client) >= 3
    assert all(x["driver.cpu_pct"] < 20 for x in client), client
