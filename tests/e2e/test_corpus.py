"""Every definition of Fallout's corpus validates or is refused as EXPECTED.md says.

Refusals must name the offending key or alias and point at its line (FILE:LINE:COL).
Runs (P/F outcomes) are checked by the exec tests; here P and F both mean "valid".
"""
import re

import pytest

from conftest import DATA

CORPUS = DATA / "corpus"

VALID = [
    "fakes.yaml",
    "fakes-edited.yaml",
    "template-test-yamls/complete-defaults.yaml",
    "template-test-yamls/complete-defaults-with-run-params.yaml",
    "testrunner-test-yamls/fakes.yaml",
    "testrunner-test-yamls/abort-fake.yaml",
    "nested-phase-yamls/serial-top-phases.yaml",
    "nested-phase-yamls/serial-sub-phases.yaml",
    "nested-phase-yamls/n-depth-phases.yaml",
    "nested-phase-yamls/multiple-phases-with-subphases.yaml",
    "nested-phase-yamls/modules-with-subphases.yaml",
    "nested-phase-yamls/depth-two-phases.yaml",
    "nested-phase-yamls/bad-regex.yaml",
    "failtest.yaml",
    "noemit.yaml",
    "valid-runlevels.yaml",
    "invalid-runlevels.yaml",
    "multithreadedemit.yaml",
    "sleep.yaml",
    "phase-lifetime-module.yaml",
    "mark_for_reuse.yaml",
]

# file -> (line, fragments every one of which the error at that line must contain)
REFUSED = {
    "template-test-yamls/partial-defaults.yaml": (9, ["no_default_provided_for_this_tag"]),
    "nested-phase-yamls/duplicate-modules.yaml": (57, ["Duplicate module or subphase aliases: text3.1"]),
    "badalias.yaml": (5, ["auto_fail", "Duplicate module or subphase aliases"]),
    "invalid_toplevel_key.yaml": (5, ["invalid_top_level_key_1", "invalid_top_level_key_2", "top level"]),
    "invalid_workload_key.yaml": (5, ["invalid_workload_key_1", "invalid_workload_key_2", "workload"]),
    "invalid_indent_module.yaml": (5, ["module_with_wrong_indent", "module my_module"]),
    "invalid_indent_checker.yaml": (8, ["checker_with_wrong_indent", "checker my_checker"]),
    "invalid_indent_artifact_checker.yaml": (10, ["artifact_checker_with_wrong_indent",
                                                  "artifact checker my_artifact_checker"]),
    "invalid_module_property.yaml": (7, ["unknown property 'bogus' of module 'fail'"]),
    "invalid_checker_property.yaml": (10, ["unknown property 'bogus' of checker 'nofail'"]),
    "invalid_artifact_checker_property.yaml": (17, ["unknown property 'bogus' of artifact checker 'hdrtool'"]),
    "invalid_artifact_checker_nodegroup.yaml": (17, ["client_group", "non-existing-nodegroup", "does not exist"]),
    "space-in-phase-name.yaml": (11, ["phase with spaces", "white space"]),
    "tab-in-phase-name.yaml": (11, ["phase\twith\ttabs", "white space"]),
    "unknown_file_spec_type.yaml": (11, ["File 'foo' has an unknown file type 'bar'"]),
}


@pytest.mark.parametrize("name", VALID)
def test_valid(fallout_test, name):
    r = fallout_test("validate", CORPUS / name)
    assert r.returncode == 0, r.stderr
    assert "error" not in r.stderr
    assert "workload" in r.stdout


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused(fallout_test, name):
    line, fragments = REFUSED[name]
    path = CORPUS / name
    r = fallout_test("validate", path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    errors = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert errors, r.stderr
    want = f"{path}:{line}:"
    hits = [l for l in errors if l.startswith(want) and all(f in l for f in fragments)]
    assert hits, f"no error at {want} containing {fragments}:\n{r.stderr}"
    assert re.match(r"^.+:\d+:\d+: error: ", hits[0])


def test_refused_before_anything_runs(fallout_test, tmp_path):
    """Validation is complete: every error of a definition is reported at once."""
    bad = tmp_path / "many.yaml"
    bad.write_text(
        "ensemble:\n"
        "  server:\n"
        "    node.count: 0\n"
        "    provisioner: lokal\n"
        "  client: nowhere\n"
        "workload:\n"
        "  phases:\n"
        "    - a:\n"
        "        module: slep\n"
        "      b:\n"
        "        module: sleep\n"
        "        properties:\n"
        "          duraton: 5s\n"
        "  checkers:\n"
        "    c:\n"
        "      checker: nofail\n"
        "      properties:\n"
        "        processes: [a, b]\n"
        "  extra: 1\n")
    r = fallout_test("validate", bad)
    assert r.returncode == 2
    err = r.stderr
    assert f"{bad}:3:17: error:" in err and "node.count" in err
    assert f"{bad}:4:18: error: unknown provisioner 'lokal' (did you mean 'local'?)" in err
    assert f"{bad}:5:11: error: Unknown group alias used in ensemble group client : nowhere" in err
    assert f"{bad}:9:17: error: unknown module 'slep' (did you mean 'sleep'?)" in err
    assert f"{bad}:13:11: error: unknown property 'duraton' of module 'sleep' (did you mean 'duration'?)" in err
    assert f"{bad}:19:3: error:" in err and "extra" in err
