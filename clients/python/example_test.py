"""A fallout test run from pytest: push a definition to a fallout server, run it, and
assert it passed and left its artifacts (the Fallout paper's CI integration, in Python).

    FALLOUT_SERVER=http://127.0.0.1:8080 FALLOUT_TOKEN=... python3 -m pytest example_test.py

Skips, saying why, when FALLOUT_SERVER or FALLOUT_TOKEN is not set.
"""
import json
import os

import pytest

from fallout_client import FalloutClient

DEFINITION = """\
greeting: hello
---
workload:
  phases:
    - greet:
        module: bash
        properties:
          script: echo {{greeting}} from python
  checkers:
    ok:
      checker: nofail
"""


@pytest.fixture
def client():
    url, token = os.environ.get("FALLOUT_SERVER"), os.environ.get("FALLOUT_TOKEN")
    if not url or not token:
        pytest.skip("set FALLOUT_SERVER and FALLOUT_TOKEN to run this against a fallout server")
    return FalloutClient(url, token)


def test_greeting_passes(client, tmp_path):
    client.push_test("python-example", DEFINITION)
    run = client.start_run("python-example", params={"greeting": "bonjour"})
    run = client.wait_run(run, timeout=120)
    assert run["state"] == "PASSED", f"{run['failedDuring']}: {run['failureReason']}"

    arts = client.artifacts(run)
    assert "testrun.json" in arts
    record = json.loads(client.artifact(run, "testrun.json"))
    assert record["testRunId"] == run["testRunId"]
    assert b"bonjour from python" in client.artifact(run, "fallout-shared.log") or any(
        b"bonjour from python" in client.artifact(run, p) for p in arts if p.endswith("fallout-node.log"))

    archive = client.download_zip(run, tmp_path / "artifacts.zip")
    assert archive.stat().st_size > 0
