"""The scenarios issue 6 names, end to end, on network namespaces (as root):

- a 3-node Redis Cluster on `netns`, loaded by kvload from a client namespace, survives a
  `kill` of one master that is restarted: the run passes, fault_impact measures a finite
  recovery, and the HTML report hatches the fault window;
- a `partition` isolates one member of a 3-node etcd cluster, then heals: afterwards every
  member is healthy again;
and after each, nothing of the run is left (namespaces, work area, ledger).
"""
import json
import subprocess
from pathlib import Path

from runs import assert_state_clean, checker_log, execute, read_testrun, write


def run_namespaces(run_id):
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [l.split()[0] for l in names.splitlines() if l.startswith(f"fo-{run_id[:8]}")]


KILL = """\
ensemble:
  server:
    node.count: 3
    provisioner: netns
    configuration_manager:
      name: redis
      properties:
        mode: cluster
  client:
    node.count: 1
    provisioner: netns
workload:
  phases:
    - load:
        module: kvload
        properties:
          target: <<provider:server:0:redis:contact_points>>
          connections: 4
          rate: 1000
          duration: 12s
          timeout: 2s
          max.errors: 100000
      crash:
        module: kill
        properties:
          target.ordinals: 0
          delay: 4s
          restart.after: 1s
  artifact_checkers:
    report:
      artifact_checker: hdrtool
    survived:
      artifact_checker: fault_impact
      properties:
        series: kvload
        band: 30%
        thresholds:
          - recovery_time < 60s
"""


def test_redis_cluster_on_netns_survives_a_killed_master(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, KILL), timeout=240)
    tr = read_testrun(out)
    assert r.returncode == 0, r.stderr + checker_log(out, "survived")
    assert tr["state"] == "PASSED"
    impact = json.loads((out / "client" / "fault-impact.json").read_text())
    text = json.dumps(impact)
    assert "kill" in text
    log = checker_log(out, "survived")
    assert "did not recover" not in log
    html = (out / "client" / "performance-report.html").read_text()
    assert "kill" in html and "server/node0" in html
    ops = [json.loads(l) for l in (out / "controller" / "jepsen-history.json").read_text().splitlines()]
    infos = [o for o in ops if o["process"] == "crash" and o["type"] == "info"]
    assert any("inject" in (o.get("value") or "") for o in infos)
    assert any("heal" in (o.get("value") or "") for o in infos)
    assert run_namespaces(tr["testRunId"]) == []
    assert_state_clean(state)


PARTITION = """\
ensemble:
  server:
    node.count: 3
    provisioner: netns
    configuration_manager:
      name: etcd
  client: server
workload:
  phases:
    - split:
        module: partition
        properties:
          mode: isolate
          target.ordinals: 2
          duration: 8s
      during:
        module: bash
        properties:
          target.group: server
          target.ordinals: 0
          script: |
            sleep 1
            # node 2 is cut off: a write through node 0 still succeeds (quorum of 2), once
            # the two elect a leader if node 2 was it (retried for up to 5 s) ...
            end=$((SECONDS + 5))
            until etcdctl --endpoints="$FALLOUT_NODE_ADDRESS:2379" --command-timeout=2s put during split; do
              [ $SECONDS -lt $end ] || exit 1
              sleep 0.2
            done
            # ... and node 2 cannot be reached
            ! timeout 2 etcdctl --dial-timeout=1s --command-timeout=1s \\
                --endpoints="<<provider:server:2:etcd:endpoint>>" get during
    - after:
        module: bash
        properties:
          target.group: server
          target.ordinals: 2
          script: |
            # healed: node 2 is back, healthy, and has caught up
            for i in $(seq 50); do
              etcdctl --endpoints="$FALLOUT_NODE_ADDRESS:2379" get during --print-value-only | grep -q split && break
              sleep 0.2
            done
            etcdctl --endpoints="$FALLOUT_NODE_ADDRESS:2379" get during --print-value-only | grep -q split
            etcdctl --endpoints="<<provider:server:0:etcd:endpoints>>" endpoint health
  checkers:
    ok:
      checker: nofail
"""


def test_partition_splits_etcd_and_heals(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, write(tmp_path, PARTITION), timeout=240)
    tr = read_testrun(out)
    assert r.returncode == 0, r.stderr
    assert tr["state"] == "PASSED"
    ops = [json.loads(l) for l in (out / "controller" / "jepsen-history.json").read_text().splitlines()]
    split = [o for o in ops if o["process"] == "split" and o["type"] == "info"]
    assert len(split) >= 2  # inject and heal
    assert run_namespaces(tr["testRunId"]) == []
    assert_state_clean(state)
