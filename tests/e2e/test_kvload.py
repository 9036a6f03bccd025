"""kvload, fallout's load driver, and the redis_benchmark wrapper, against real Redis
servers: one the test starts itself (standalone), and ones the `redis` configuration
manager starts (a 3-shard cluster resharded under load; a server stopped with SIGSTOP).

What a user sees is asserted: the run's verdict, the summary in the history, the interval
logs in the client node's artifacts (decoded here, independently of fallout's reader),
and the keys on every shard.
"""
import base64
import json
import random
import socket
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from runs import execute, history, require, write


@pytest.fixture(autouse=True)
def redis_installed():
    require("redis-server", "redis-cli", "redis-benchmark")


# ---- helpers ----

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cm_port():
    """A port for the redis configuration manager (its bus uses port + 10000): random in a
    range other tests leave alone, so runs of other suites on this machine do not collide."""
    return random.randrange(21000, 29000)


@pytest.fixture
def redis(tmp_path):
    """A redis-server this test starts on 127.0.0.1 and a free port."""
    port = free_port()
    d = tmp_path / "redis"
    d.mkdir()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", str(d)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "redis-server did not start"
        assert p.poll() is None, "redis-server exited"
        time.sleep(0.05)
    yield port
    p.terminate()
    p.wait(timeout=10)


ONE_NODE = """\
ensemble:
  server:
    node.count: 1
    provisioner:
      name: local
  client: server
workload:
  phases:
{phases}  checkers:
    nofail:
      checker: nofail
"""


def one_node(phases):
    """A one-node local ensemble running phases (YAML list items), checked by nofail."""
    return ONE_NODE.replace("{phases}", phases)


def run(fallout, state, tmp_path, definition, timeout=60):
    out = tmp_path / "run"
    return execute(fallout, state, out, write(tmp_path, definition, "test.yaml"), timeout=timeout), out


def summary(out, process="load"):
    oks = [o for o in history(out, process) if o["type"] == "ok"]
    assert len(oks) == 1, history(out, process)
    return json.loads(oks[0]["value"])


def read_varint(b, i):
    """A ZigZag LEB128 long as HdrHistogram writes them (at most 9 bytes)."""
    v = shift = 0
    for k in range(9):
        byte = b[i]
        i += 1
        if k == 8:
            v |= byte << 56
            break
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return (v >> 1) ^ -(v & 1), i


def hist_total(b64):
    """The number of values in a compressed V2 histogram."""
    raw = base64.b64decode(b64)
    cookie, length = struct.unpack(">ii", raw[:8])
    assert cookie in (0x1C849304, 0x1C849314), hex(cookie)  # V2 compressed (Java adds word size 0x10)
    inner = zlib.decompress(raw[8:8 + length])
    cookie, payload = struct.unpack(">ii", inner[:8])
    assert cookie in (0x1C849303, 0x1C849313), hex(cookie)
    body, i, total = inner[40:40 + payload], 0, 0
    while i < len(body):
        v, i = read_varint(body, i)
        if v > 0:
            total += v
    return total


def read_log(path):
    """{tag: [count per interval]} of an interval log, and its start times."""
    tags, starts = {}, []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#") or line.startswith('"'):
            continue
        fields = line.split(",")
        tag = fields[0][4:] if fields[0].startswith("Tag=") else ""
        if tag:
            fields = fields[1:]
        starts.append(float(fields[0]))
        tags.setdefault(tag, []).append(hist_total(fields[3]))
    return tags, starts


# ---- standalone, a server the test started ----

def test_closed_model_logs_and_totals(fallout, state, tmp_path, redis):
    r, out = run(fallout, state, tmp_path, one_node(f"""\
    - load:
        module: kvload
        properties:
          target: 127.0.0.1:{redis}
          ratio: "9:1"
          connections: 10
          keys: 1000
          warmup: 300ms
          duration: 2s
"""))
    assert r.returncode == 0, r.stderr
    s = summary(out)
    assert s["model"] == "closed" and s["mode"] == "standalone"
    assert s["errors"] == 0 and s["errors_by_kind"] == {}
    assert s["ops"] > 1000
    assert 1.9 < s["duration_s"] < 3.5
    assert abs(s["rate"] - s["ops"] / s["duration_s"]) < 0.01 * s["rate"] + 1
    assert 0 < s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
    # closed model: every request is sent when it is issued
    assert s["service_p99_ms"] == s["p99_ms"]
    gets, sets = s["commands"]["get"]["ok"], s["commands"]["set"]["ok"]
    assert gets + sets == s["ops"]
    assert 0.85 < gets / s["ops"] < 0.95

    node = out / "server" / "node0"
    for name in ("kvload.hdr", "kvload-service.hdr"):
        tags, starts = read_log(node / name)
        assert set(tags) == {"get", "set"}, (name, tags.keys())
        # the interval counts add up to the summary's figures, warm-up excluded
        assert sum(tags["get"]) == gets and sum(tags["set"]) == sets
        assert 2 <= len(tags["get"]) <= 3
        assert starts[0] == 0.0
    text = (node / "kvload.hdr").read_text()
    assert "#[BaseTime:" in text and "response time" in text


def test_verify_finds_values_it_did_not_write(fallout, state, tmp_path, redis):
    """Another writer overwrites kvload's keys: verification counts the mismatches and the
    module fails with them."""
    r, out = run(fallout, state, tmp_path, one_node(f"""\
    - load:
        module: kvload
        properties:
          target: 127.0.0.1:{redis}
          keys: 200
          connections: 4
          verify: true
          duration: 2s
      vandal:
        module: bash
        properties:
          target.group: controller
          script: |
            sleep 0.5
            for i in $(seq 0 199); do echo "SET kv:$i junk"; done | redis-cli -p {redis} > /dev/null
"""))
    assert r.returncode == 1
    ops = history(out, "load")
    fail = [o for o in ops if o["type"] == "fail"]
    assert len(fail) == 1 and "verify" in fail[0]["value"], ops
    info = [json.loads(o["value"]) for o in ops if o["type"] == "info" and o.get("mediaType")]
    assert info and info[0]["by_kind"]["verify"] > 0


def test_unreachable_target_fails_at_once(fallout, state, tmp_path):
    port = free_port()
    start = time.monotonic()
    r, out = run(fallout, state, tmp_path, one_node(f"""\
    - load:
        module: kvload
        properties:
          target: 127.0.0.1:{port}
          duration: 30s
"""))
    assert r.returncode == 1
    assert time.monotonic() - start < 10
    fail = [o for o in history(out, "load") if o["type"] == "fail"]
    assert len(fail) == 1 and f"cannot connect to 127.0.0.1:{port}" in fail[0]["value"]


def test_redis_benchmark_wrapper(fallout, state, tmp_path, redis):
    r, out = run(fallout, state, tmp_path, one_node(f"""\
    - baseline:
        module: redis_benchmark
        properties:
          target: 127.0.0.1:{redis}
          requests: 5000
          clients: 10
          tests: set,get
"""))
    assert r.returncode == 0, r.stderr
    ops = history(out, "baseline")
    oks = [json.loads(o["value"]) for o in ops if o["type"] == "ok"]
    assert [o["test"] for o in oks] == ["SET", "GET"]
    assert all(o["rps"] > 0 and o["p99_latency_ms"] >= o["p50_latency_ms"] for o in oks)
    total = [json.loads(o["value"]) for o in ops if o["type"] == "info" and o.get("mediaType")]
    assert total[0]["tests"]["GET"]["rps"] == oks[1]["rps"]
    assert (out / "server" / "node0" / "redis-benchmark.csv").read_text().startswith('"test","rps"')


# ---- servers started by the redis configuration manager ----

def test_cluster_resharded_under_load(fallout, state, tmp_path):
    """Three shards; 300 slots move from shard 1 to shard 0 while kvload runs with
    verification: it follows MOVED and ASK without an error, and keys land on every shard."""
    port = cm_port()
    r, out = run(fallout, state, tmp_path, f"""
ensemble:
  server:
    node.count: 3
    provisioner:
      name: local
    configuration_manager:
      - name: redis
        properties:
          mode: cluster
          port: {port}
  client:
    node.count: 1
    provisioner:
      name: local
workload:
  phases:
    - load:
        module: kvload
        properties:
          target: <<provider:server:0:redis:contact_points>>
          keys: 20000
          connections: 20
          verify: true
          duration: 3s
      reshard:
        module: bash
        properties:
          target.group: controller
          script: |
            A=<<provider:server:0:redis:address>>
            B=<<provider:server:1:redis:address>>
            TO=$(redis-cli -h $A -p {port} cluster myid)
            FROM=$(redis-cli -h $B -p {port} cluster myid)
            sleep 0.5
            redis-cli --cluster reshard $A:{port} --cluster-from $FROM --cluster-to $TO \\
              --cluster-slots 300 --cluster-yes > /dev/null
    - count:
        module: bash
        properties:
          target.group: server
          script: redis-cli -h $FALLOUT_NODE_ADDRESS -p {port} dbsize
  checkers:
    nofail:
      checker: nofail
""", timeout=120)
    assert r.returncode == 0, r.stderr + json.dumps(history(out), indent=1)
    s = summary(out)
    assert s["mode"] == "cluster" and s["servers"] == 3
    assert s["errors"] == 0 and s["ops"] > 1000
    assert s["moved"] > 0, s
    counts = [o for o in history(out, "count") if o["type"] == "ok"][0]["value"]
    sizes = [int(line.split()[-1]) for line in counts.splitlines()[1:]]
    assert len(sizes) == 3 and all(n > 0 for n in sizes), counts


def test_stalled_server_shows_in_response_time(fallout, state, tmp_path):
    """Coordinated omission corrected: at a fixed rate, a server stopped for a second makes
    the response-time p99 about a second, while the service time (send to reply) of all but
    the few requests caught in flight stays small."""
    port = cm_port()
    r, out = run(fallout, state, tmp_path, f"""
ensemble:
  server:
    node.count: 1
    provisioner:
      name: local
    configuration_manager:
      - name: redis
        properties:
          port: {port}
  client:
    node.count: 1
    provisioner:
      name: local
workload:
  phases:
    - load:
        module: kvload
        properties:
          target: <<provider:server:0:redis:contact_points>>
          rate: 2000
          connections: 4
          duration: 3s
      stall:
        module: bash
        properties:
          target.group: controller
          script: |
            A=<<provider:server:0:redis:address>>
            PID=$(redis-cli -h $A -p {port} info server | tr -d '\\r' | sed -n 's/^process_id://p')
            sleep 1
            kill -STOP $PID
            sleep 1
            kill -CONT $PID
  checkers:
    nofail:
      checker: nofail
""")
    assert r.returncode == 0, r.stderr + json.dumps(history(out), indent=1)
    s = summary(out)
    assert s["model"] == "open" and s["errors"] == 0
    assert 5000 <= s["ops"] <= 6100, s
    assert s["p99_ms"] > 800, s
    assert s["max_ms"] > 950, s
    assert s["service_p99_ms"] < 300, s
    # the stall is in the response-time log too
    tags, _ = read_log(out / "client" / "node0" / "kvload.hdr")
    assert sum(tags["get"]) + sum(tags["set"]) == s["ops"]


def test_pgbench_wrapper(fallout, state, tmp_path):
    """pgbench against the primary the postgresql configuration manager started: its
    report becomes an ok with the figures, and the totals an info."""
    require("pgbench")
    assert list(Path("/usr/lib/postgresql").glob("*/bin/postgres")), "PostgreSQL is missing: run `make deps`"
    r, out = run(fallout, state, tmp_path, f"""
ensemble:
  server:
    node.count: 1
    provisioner:
      name: local
    configuration_manager:
      - name: postgresql
        properties:
          port: {cm_port()}
  client:
    node.count: 1
    provisioner:
      name: local
workload:
  phases:
    - oltp:
        module: pgbench
        properties:
          clients: 4
          jobs: 2
          duration: 1s
  checkers:
    nofail:
      checker: nofail
""", timeout=120)
    assert r.returncode == 0, r.stderr + json.dumps(history(out), indent=1)
    ops = history(out, "oltp")
    oks = [json.loads(o["value"]) for o in ops if o["type"] == "ok"]
    assert len(oks) == 1
    fig = oks[0]
    assert fig["node"] == "node0" and fig["scale"] == 1 and fig["clients"] == 4
    assert fig["tps"] > 0 and fig["transactions"] > 0 and fig["failed"] == 0
    assert fig["latency_avg_ms"] > 0
    total = [json.loads(o["value"]) for o in ops if o["type"] == "info" and o.get("mediaType")]
    assert total == [{"nodes": 1, "tps": fig["tps"], "transactions": fig["transactions"]}]
