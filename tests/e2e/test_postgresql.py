"""The `postgresql` configuration manager, for real: fallout runs initdb on a primary,
clones streaming replicas from it with pg_basebackup, waits until pg_stat_replication
shows them all streaming, a bash module writes on the primary and reads on the replicas
through the facts the manager publishes, and teardown leaves no process, folder or state
behind. Under root the servers run as the `postgres` user. A cluster kept with
mark_for_reuse is found by asking the servers; a setting PostgreSQL refuses fails the run
with PostgreSQL's own words.

Runs the real binary (env FALLOUT, default bin/fallout) and Debian's PostgreSQL (`make
deps` installs it). Each test has its own state folder.
"""
import glob
import os
import re

import pytest

from conftest import ROOT
from runs import (addresses, assert_found_running, assert_state_clean, execute, group_log, node_log, pgrep,
                  read_testrun)

EXAMPLE = ROOT / "examples" / "postgresql-replicas.yaml"


@pytest.fixture(autouse=True)
def postgresql_installed():
    assert glob.glob("/usr/lib/postgresql/*/bin/postgres"), "PostgreSQL is missing: run `make deps`"


def postgres_pids(state):
    """Pids of processes whose command line names this test's state folder (the servers are
    started with -D <node folder>/postgresql/data), and of the server's own children, which
    rename themselves "postgres: nodeN: ..." but stay children of their postmaster."""
    pids = set(pgrep("-f", re.escape(str(state)) + "/.*postgresql/data"))
    for pid in list(pids):
        pids |= set(pgrep("-P", str(pid)))
    return sorted(pids)


def assert_nothing_left(state):
    assert postgres_pids(state) == []
    assert_state_clean(state, clusters=True)


def test_example_replicates_serves_reads_and_leaves_nothing(fallout, state, tmp_path):
    out = tmp_path / "run"
    r = execute(fallout, state, out, EXAMPLE, "rows=2000")
    assert r.returncode == 0, r.stderr
    assert read_testrun(out)["state"] == "PASSED"
    log = group_log(out)
    assert log.index("postgresql: primary and 2 replicas streaming") < log.index("-> STARTED_SERVICES_RUNNING")
    # pg_stat_replication, as the primary saw it at the end: both replicas streaming.
    table = (out / "server" / "node0" / "pg_stat_replication.txt").read_text()
    rows = [l for l in table.splitlines() if "| streaming |" in l]
    assert len(rows) == 2, table
    assert {re.search(r"\| (node\d) +\|", l).group(1) for l in rows} == {"node1", "node2"}
    for n in (1, 2):
        assert "streaming" in (out / "server" / f"node{n}" / "pg_stat_wal_receiver.txt").read_text()
        assert f"node{n} sees 2000 rows" in node_log(out, n)
    # The test's config reached postgresql.conf, and the server log was collected.
    conf = (out / "server" / "node0" / "postgresql.conf").read_text()
    assert "shared_buffers = '32MB'" in conf and "max_connections = '50'" in conf
    assert "database system is ready to accept connections" in (out / "server" / "node0" / "postgresql.log").read_text()
    assert "database system is ready to accept read-only connections" in \
        (out / "server" / "node1" / "postgresql.log").read_text()
    # The contact points were published.
    addrs = addresses(out)
    assert f"published postgresql:dsn = postgresql://fallout@{addrs[1]}:5432/fallout" in node_log(out, 1)
    assert f"published postgresql:primary_dsn = postgresql://fallout@{addrs[0]}:5432/fallout" in node_log(out, 2)
    assert "published postgresql:role = replica" in node_log(out, 2)
    assert_nothing_left(state)


WHO = """\
ensemble:
  server:
    node.count: 2
    provisioner: local
    configuration_manager: postgresql
  client: server
workload:
  phases:
    - who:
        module: bash
        properties:
          script: |
            set -e
            echo "data owner: $(stat -c %U postgresql/data)"
            echo "server user: $(ps -o user= -p $(head -1 postgresql/data/postmaster.pid))"
            echo "connected as: $(psql <<provider:server:0:postgresql:dsn>> -XAtc 'select current_user')"
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the servers as the postgres user")
def test_under_root_the_servers_run_as_postgres(fallout, state, tmp_path):
    p = tmp_path / "who.yaml"
    p.write_text(WHO)
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 0, r.stderr
    for n in range(2):
        log = node_log(out, n)
        assert "data owner: postgres" in log
        assert "server user: postgres" in log
        assert "connected as: fallout" in log
    # (The node folders lie below pytest's folder, which only root may enter: the servers
    # reached them all the same.)
    assert_nothing_left(state)


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
        name: kept-postgresql
    configuration_manager: postgresql
  client: server
workload:
  phases:
    - touch:
        module: bash
        properties:
          target.ordinals: 0
          script: |
            set -e
            dsn=<<provider:server:0:postgresql:primary_dsn>>
            psql $dsn -XAtq -c 'create table if not exists runs (n int)' -c 'insert into runs values (1)'
            echo "runs=$(psql $dsn -XAtc 'select count(*) from runs')"
"""


def test_kept_cluster_is_found_replicating_and_keeps_its_data(fallout, state, tmp_path):
    p = tmp_path / "kept.yaml"
    p.write_text(KEPT)
    runs = [tmp_path / f"run{i}" for i in range(3)]
    r = execute(fallout, state, runs[0], p, "keep=true")
    assert r.returncode == 0, r.stderr
    assert postgres_pids(state)
    r = execute(fallout, state, runs[1], p, "keep=true")
    assert r.returncode == 0, r.stderr
    log = group_log(runs[1])
    assert_found_running(log)
    assert "runs=2" in node_log(runs[1], 0)
    r = execute(fallout, state, runs[2], p, "keep=false")
    assert r.returncode == 0, r.stderr
    assert "runs=3" in node_log(runs[2], 0)
    assert_nothing_left(state)


def test_setting_postgresql_refuses_fails_the_run(fallout, state, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("ensemble:\n  server:\n    node.count: 2\n    provisioner: local\n"
                 "    configuration_manager:\n      name: postgresql\n      properties:\n"
                 "        config: {shared_buffers: lots}\n  client: server\n"
                 "workload:\n  phases:\n    - x:\n        module: noop\n")
    out = tmp_path / "run"
    r = execute(fallout, state, out, p)
    assert r.returncode == 1
    tr = read_testrun(out)
    assert tr["state"] == "FAILED" and tr["failedDuring"] == "SETTING_UP"
    assert "service 'postgresql' on server/node0 exited unexpectedly" in r.stderr
    # PostgreSQL's own words reach the artifacts.
    assert 'invalid value for parameter "shared_buffers": "lots"' in \
        (out / "server" / "node0" / "postgresql.log").read_text()
    assert_nothing_left(state)


def test_bad_config_is_refused_before_anything_runs(fallout, tmp_path):
    def validate(props):
        p = tmp_path / "bad.yaml"
        p.write_text("ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n"
                     "    configuration_manager:\n      name: postgresql\n      properties:\n"
                     f"{props}  client: server\n"
                     "workload:\n  phases:\n    - x:\n        module: noop\n")
        r = fallout("validate", p)
        assert r.returncode == 2
        return r.stderr

    assert "property 'user'" in validate("        user: 'bad name'\n")
    err = validate("        config: {'a b': 1, work_mem: [1, 2]}\n")
    assert "'a b' in 'config' of configuration manager 'postgresql' is not a setting name" in err
    assert "setting 'work_mem' in 'config' of configuration manager 'postgresql' must be a single value" in err
