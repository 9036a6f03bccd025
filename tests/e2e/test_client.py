"""The client commands (`fallout login`, `fallout test ...`, `fallout run ...`) and the
Python client (clients/python) against a real `fallout serve` on a free loopback port."""
import json
import os
import signal
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from service import ADMIN, Server

ROOT = Path(__file__).resolve().parents[2]

PASSING = """\
who: world
---
workload:
  phases:
    - hi:
        module: bash
        properties:
          script: echo hello {{who}}
  checkers:
    ok:
      checker: nofail
"""

FAILING = """\
workload:
  phases:
    - boom:
        module: bash
        properties:
          script: exit 1
  checkers:
    ok:
      checker: nofail
"""

SLOW = """\
workload:
  phases:
    - nap:
        module: sleep
        properties:
          duration: 60s
"""

INVALID = """\
workload:
  phases:
    - hi:
        module: bash
        propertes:
          script: echo hi
"""


@pytest.fixture(scope="module")
def server(fallout, tmp_path_factory):
    with Server(fallout.path, tmp_path_factory.mktemp("serve") / "data") as s:
        yield s


@pytest.fixture(scope="module")
def cli(fallout, server, tmp_path_factory):
    """Runs fallout with a private client config, signed in once as the admin."""
    home = tmp_path_factory.mktemp("client")
    env = {"FALLOUT_CLIENT_CONFIG": str(home / "cfg" / "client.json"), "FALLOUT_SERVER": "", "FALLOUT_TOKEN": ""}

    def run(*args, **kw):
        e = dict(env)
        e.update(kw.pop("env", {}))
        kw.setdefault("cwd", home)
        return fallout(*args, env=e, **kw)
    run.home, run.config = home, home / "cfg" / "client.json"
    r = run("login", "--server", server.url, "--email", ADMIN[1], "--password-stdin", input=ADMIN[2] + "\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"signed in to {server.url} as {ADMIN[1]}; token saved in {run.config}"
    return run


def write(cli, name, text):
    p = cli.home / name
    p.write_text(text)
    return p


def test_login_saves_a_private_config(cli, server):
    cfg = json.loads(cli.config.read_text())
    assert cfg["server"] == server.url and cfg["email"] == ADMIN[1] and cfg["token"]
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600


def test_login_with_a_wrong_password_is_refused(fallout, server, tmp_path):
    cfg = tmp_path / "c.json"
    r = fallout("login", "--server", server.url, "--email", ADMIN[1], "--password-stdin", input="nope\n",
                env={"FALLOUT_CLIENT_CONFIG": str(cfg)})
    assert r.returncode == 1
    assert "refused the sign-in" in r.stderr
    assert not cfg.exists()


def test_without_a_server_says_how_to_sign_in(fallout, tmp_path):
    r = fallout("test", "list", env={"FALLOUT_CLIENT_CONFIG": str(tmp_path / "none.json"), "FALLOUT_SERVER": "",
                                     "FALLOUT_TOKEN": ""})
    assert r.returncode == 2
    assert "fallout login --server URL" in r.stderr


def test_push_list_show_rm(cli):
    f = write(cli, "greet.yaml", PASSING)
    r = cli("test", "push", f)
    assert (r.returncode, r.stdout) == (0, "created greet (version 1)\n"), r.stderr
    r = cli("test", "push", f)
    assert (r.returncode, r.stdout) == (0, "updated greet (version 2)\n"), r.stderr

    r = cli("test", "list")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows[0][:2] == ["NAME", "VERSION"]
    assert ["greet", "2"] in [row[:2] for row in rows]
    r = cli("test", "list", "--json")
    assert "greet" in [t["name"] for t in json.loads(r.stdout)]

    r = cli("test", "show", "greet")
    assert (r.returncode, r.stdout) == (0, PASSING), r.stderr

    r = cli("test", "push", f, "--name", "doomed")
    assert r.returncode == 0, r.stderr
    r = cli("test", "rm", "doomed", "--forever")
    assert r.returncode == 0, r.stderr
    r = cli("test", "show", "doomed")
    assert r.returncode == 1
    assert "cannot show 'doomed'" in r.stderr


def test_push_an_invalid_definition(cli):
    f = write(cli, "bad.yaml", INVALID)
    r = cli("test", "push", f)
    assert r.returncode == 2
    assert f"{f}:5:9: found invalid yaml keys below module hi: [propertes]" in r.stderr
    assert "nothing was pushed" in r.stderr


def test_run_start_wait_passes_with_junit(cli):
    cli("test", "push", write(cli, "greet.yaml", PASSING))
    r = cli("run", "start", "greet", "who=you", "--wait", "--junit", "report.xml")
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.strip()
    assert f"PASSED in" in r.stderr and f"(test run {run_id})" in r.stderr
    suite = ET.parse(cli.home / "report.xml").getroot().find("testsuite")
    assert suite.get("name") == "greet" and suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["runId"] == run_id and props["state"] == "PASSED"
    assert "run" in [c.get("name") for c in suite.iter("testcase")]

    # The parameter reached the run (its record shows the definition as it ran).
    r = cli("run", "artifacts", run_id, "testrun.json")
    assert r.returncode == 0, r.stderr
    assert "echo hello you" in json.loads(r.stdout)["definition"]

    out = cli.home / "artifacts"
    r = cli("run", "artifacts", run_id, "--output", out)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "testrun.json").read_text())["testRunId"] == run_id
    r = cli("run", "artifacts", run_id)
    assert "testrun.json" in r.stdout

    r = cli("run", "show", run_id, "--json")
    assert json.loads(r.stdout)["state"] == "PASSED"
    r = cli("run", "list", "greet")
    assert run_id in r.stdout


def test_run_start_wait_fails_with_junit(cli):
    cli("test", "push", write(cli, "boom.yaml", FAILING))
    r = cli("run", "start", "boom", "--wait", "--junit", "failed.xml")
    assert r.returncode == 1, r.stderr
    assert "FAILED in" in r.stderr and "FAIL   checker ok (nofail)" in r.stderr
    suite = ET.parse(cli.home / "failed.xml").getroot().find("testsuite")
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert suite.get("failures") == str(len(failed)) and "run" in failed and "ok (nofail)" in failed


def test_run_start_of_a_missing_test_exits_2(cli):
    r = cli("run", "start", "no-such-test", "--wait")
    assert r.returncode == 2
    assert "cannot start a run of 'no-such-test'" in r.stderr


def test_abort_a_long_run(cli):
    cli("test", "push", write(cli, "nap.yaml", SLOW))
    r = cli("run", "start", "nap")
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.strip()
    r = cli("run", "abort", run_id)
    assert r.returncode == 0, r.stderr
    r = cli("run", "wait", run_id, timeout=60)
    assert r.returncode == 1
    assert "ABORTED in" in r.stderr


def test_timeout_aborts_the_run(cli):
    cli("test", "push", write(cli, "nap.yaml", SLOW))
    r = cli("run", "start", "nap", "--wait", "--timeout", "300ms", timeout=60)
    assert r.returncode == 1
    assert "did not end within 300ms; aborting it" in r.stderr and "ABORTED" in r.stderr


def test_python_client_example(cli):
    cfg = json.loads(cli.config.read_text())
    env = dict(os.environ, FALLOUT_SERVER=cfg["server"], FALLOUT_TOKEN=cfg["token"])
    example = ROOT / "clients" / "python" / "example_test.py"
    r = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(example)],
                       cwd=example.parent, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout and "skipped" not in r.stdout


def test_follow_streams_the_log(cli):
    cli("test", "push", write(cli, "greet.yaml", PASSING))
    r = cli("run", "start", "greet", "--follow")
    assert r.returncode == 0, r.stderr
    assert "module 'hi' (bash) starting" in r.stderr
    assert "run CHECKING_ARTIFACTS -> PASSED" in r.stderr


def test_ctrl_c_aborts_the_run_and_waits_for_its_end(fallout, cli):
    cli("test", "push", write(cli, "nap.yaml", SLOW))
    env = dict(os.environ, FALLOUT_CLIENT_CONFIG=str(cli.config), FALLOUT_SERVER="", FALLOUT_TOKEN="")
    p = subprocess.Popen([fallout.path, "run", "start", "nap", "--wait"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    run_id = p.stdout.readline().strip()
    assert run_id, p.stderr.read()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert f"aborting run {run_id}" in err and "ABORTED in" in err
