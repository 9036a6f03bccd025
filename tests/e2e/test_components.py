"""End-to-end tests of `fallout components`: the component reference a user reads.

Runs the real binary (env FALLOUT, default bin/fallout) and the test build with the
fixture components (env FALLOUT_TEST, default build/release/bin/fallout-test). Checks what a user sees: the listing, a
kind, one component in full, the JSON form, the errors for unknown names, and that
docs/components.md is exactly what `fallout components --markdown` prints, so the docs
cannot drift from the code.
"""
import json
import re
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FALLOUT = os.environ.get("FALLOUT") or str(ROOT / "bin/fallout")
FALLOUT_TEST = os.environ.get("FALLOUT_TEST") or str(ROOT / "build/release/bin/fallout-test")

# The default set: what every build ships (the contract with Fallout's tests included).
DEFAULT_COMPONENTS = {
    "provisioner": {"fake", "local", "netns", "ssh"},
    "configuration_manager": {"etcd", "fake", "noop", "postgresql", "redis", "remote_files", "script"},
    "module": {"bash", "delete_data", "fail", "fake", "kill", "kvload", "noop", "partition", "pause", "pgbench",
               "redis_benchmark", "restart", "runlevel", "sleep", "text", "throttle"},
    "checker": {"duration", "nofail", "runlevel"},
    "artifact_checker": {"fault_impact", "hdr_split_to_csv", "hdrtool", "performance_thresholds", "regex",
                         "systemlog"},
}
FIXTURES = {
    ("module", "noemit"),
    ("module", "multithreaded"),
    ("configuration_manager", "Test Configuration Manager"),
    ("checker", "regex"),
    ("checker", "count"),
}
HEADINGS = ["Provisioners", "Configuration managers", "Modules", "Checkers", "Artifact checkers"]
WIDTH = 90


def run(*args, binary=FALLOUT):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)


def ok(*args, binary=FALLOUT):
    r = run(*args, binary=binary)
    assert r.returncode == 0, f"fallout {' '.join(args)} exited {r.returncode}: {r.stderr}"
    assert r.stderr == ""
    return r.stdout


def test_binary_exists():
    assert os.access(FALLOUT, os.X_OK), f"{FALLOUT} is not built"


def test_listing_shows_every_kind_and_component():
    out = ok("components")
    for heading in HEADINGS:
        assert f"\n{heading}\n" in f"\n{out}"
    for kind, names in DEFAULT_COMPONENTS.items():
        for name in names:  # a long name sits on its own line, its summary below
            assert re.search(rf"^  {re.escape(name)}( |$)", out, re.M), f"{kind} {name} missing from the listing"
    # Summaries are there; every component runs (none is marked runnable later).
    assert "dry run: every step succeeds" in out
    assert "systemlog" in out and "runnable yet" not in out
    # No fixtures in the shipped binary.
    assert "noemit" not in out
    assert "test fixture" not in out


def test_text_output_fits_a_terminal():
    for args in (["components"], ["components", "module"], ["components", "module", "bash"],
                 ["components", "artifact_checker", "regex"]):
        for line in ok(*args).splitlines():
            assert len(line) <= WIDTH, f"line too long in `fallout {' '.join(args)}`: {line!r}"
            assert line == line.rstrip(), f"trailing blanks in `fallout {' '.join(args)}`: {line!r}"


def test_kind_listing_shows_properties():
    out = ok("components", "module")
    assert out.startswith("Modules\n")
    assert "\nsleep: wait for a while\n" in out
    assert "duration  duration, default 1m" in out
    assert "script" in out and "string, required" in out
    assert "lifetime" in out  # every module accepts it, said once for the kind
    # Other kinds are not listed.
    assert "remote_files" not in out


@pytest.mark.parametrize("kind", ["configuration_manager", "configuration-manager", "Configuration_Managers"])
def test_kind_spellings(kind):
    out = ok("components", kind)
    assert out.startswith("Configuration managers\n")
    assert "remote_files" in out


def test_one_component_in_full():
    out = ok("components", "module", "sleep")
    assert out.startswith("module sleep: wait for a while\n")
    assert "Fallout compatibility" in out
    assert "Example:\n" in out and "module: sleep" in out
    assert "Properties:\n" in out
    header = next(l for l in out.splitlines() if l.strip().startswith("NAME"))
    assert header.split() == ["NAME", "TYPE", "REQUIRED", "DEFAULT"]
    row = next(l for l in out.splitlines() if l.strip().startswith("duration "))
    assert row.split() == ["duration", "duration", "no", "1m"]


def test_component_details_show_options_ranges_and_old_names():
    out = ok("components", "module", "runlevel")
    assert "One of: DESTROYED, STOPPED" in out
    out = ok("components", "module", "bash")
    assert "old name 'server_group'" in out
    out = ok("components", "artifact_checker", "systemlog")
    assert "not runnable yet" not in out
    out = ok("components", "artifact_checker", "hdrtool")
    assert "Must match in full:" in out


def test_names_ignore_case():
    assert ok("components", "provisioner", "LOCAL") == ok("components", "provisioner", "local")
    assert ok("components", "provisioner", "Local").startswith("provisioner local: ")


def test_json_parses_and_lists_every_name():
    data = json.loads(ok("components", "--json"))
    assert isinstance(data, list)
    seen = {}
    for c in data:
        seen.setdefault(c["kind"], set()).add(c["name"])
        assert c["summary"] and c["description"]
        assert c["fixture"] is False
        for p in c["properties"]:
            assert set(p) >= {"name", "type", "description", "default", "required", "pattern", "deprecated_name"}
    assert seen == DEFAULT_COMPONENTS


def test_json_of_a_kind_and_of_a_component():
    mods = json.loads(ok("components", "module", "--json"))
    assert {c["name"] for c in mods} == DEFAULT_COMPONENTS["module"]
    assert all(c["kind"] == "module" for c in mods)
    sleep = json.loads(ok("components", "--json", "module", "sleep"))
    assert sleep["name"] == "sleep"
    assert sleep["properties"] == [{
        "name": "duration", "type": "duration",
        "description": sleep["properties"][0]["description"],
        "default": "1m", "required": False, "pattern": None, "deprecated_name": None,
    }]
    syslog = json.loads(ok("components", "artifact_checker", "systemlog", "--json"))
    assert syslog["available"] is None
    hdr = json.loads(ok("components", "artifact_checker", "hdrtool", "--json"))
    assert hdr["available"] is None


def test_unknown_name_exits_2_with_a_suggestion():
    r = run("components", "module", "slep")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0] == "fallout: unknown module 'slep' (did you mean 'sleep'?)"


def test_unknown_name_without_a_close_match():
    r = run("components", "checker", "zzzzzzzz")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "fallout: unknown checker 'zzzzzzzz'"


def test_unknown_kind_exits_2_with_a_suggestion():
    r = run("components", "modle")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "fallout: unknown kind 'modle' (did you mean 'module'?)"


@pytest.mark.parametrize("args", [["--bogus"], ["a", "b", "c"], ["--json", "--markdown"]])
def test_usage_errors_exit_2(args):
    r = run("components", *args)
    assert r.returncode == 2
    assert r.stderr.startswith("fallout: ")


def test_docs_match_the_code():
    docs = (ROOT / "docs" / "components.md").read_text()
    assert docs == ok("components", "--markdown"), (
        "docs/components.md is out of date: run `make docs` (scripts/gen-docs.sh bin/fallout)")


def test_markdown_covers_every_component():
    md = ok("components", "--markdown")
    assert md.startswith("# Components\n")
    for heading in HEADINGS:
        assert f"\n## {heading}\n" in md
    for names in DEFAULT_COMPONENTS.values():
        for name in names:
            assert f"\n### `{name}`\n" in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def fallout_test():
    assert os.access(FALLOUT_TEST, os.X_OK), f"{FALLOUT_TEST} (the test build with fixtures) is not built"
    return FALLOUT_TEST


def test_fixtures_are_listed_and_marked_in_the_test_build():
    binary = fallout_test()
    out = ok("components", binary=binary)
    assert "Test Configuration Manager" in out
    for line in out.splitlines():
        if line.startswith("  noemit ") or line.startswith("  multithreaded "):
            assert "(test fixture)" in line
    data = json.loads(ok("components", "--json", binary=binary))
    fixtures = {(c["kind"], c["name"]) for c in data if c["fixture"]}
    assert fixtures == FIXTURES
    defaults = {(c["kind"], c["name"]) for c in data if not c["fixture"]}
    assert defaults == {(k, n) for k, names in DEFAULT_COMPONENTS.items() for n in names}


def test_fixture_in_full_in_the_test_build():
    binary = fallout_test()
    out = ok("components", "configuration_manager", "test configuration manager", binary=binary)
    assert out.startswith("configuration manager Test Configuration Manager (test fixture): ")
    assert "abc|def|hgi" in out
    r = run("components", "module", "noemitt", binary=binary)
    assert r.returncode == 2
    assert "(did you mean 'noemit'?)" in r.stderr
