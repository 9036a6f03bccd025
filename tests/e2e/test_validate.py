"""`fallout validate`: templates, parameters, the test library, and bad input of every kind.

Each test runs the real binary and checks what a user sees: the exit status, the
expanded definition on stdout, and FILE:LINE:COL errors on stderr.
"""
import os
import re

from conftest import ROOT

EXAMPLES = ROOT / "examples"
LIBRARY = EXAMPLES / "library"

SIMPLE = """\
workload:
  phases:
    - nap:
        module: sleep
        properties:
          duration: 1s
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
    return p


def errors_of(r):
    return [l for l in r.stderr.splitlines() if ": error: " in l]


def test_valid_prints_the_expanded_definition(fallout):
    r = fallout("validate", EXAMPLES / "hello-nodes.yaml")
    assert r.returncode == 0, r.stderr
    assert "node.count: 3" in r.stdout
    assert 'echo "hello from node' in r.stdout
    assert "{{" not in r.stdout


def test_parameters_beat_defaults(fallout, tmp_path):
    params = write(tmp_path, "p.yaml", "nodes: 7\ngreeting: hey\n")
    r = fallout("validate", "--params", params, EXAMPLES / "hello-nodes.yaml", "greeting=hi")
    assert r.returncode == 0, r.stderr
    assert "node.count: 7" in r.stdout          # from --params
    assert 'echo "hi from node' in r.stdout     # name=value beats --params
    assert "duration: 200ms" in r.stdout        # the default stays


def test_quiet(fallout):
    r = fallout("validate", "-q", EXAMPLES / "hello-nodes.yaml")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_every_unresolved_tag_is_reported_at_once(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "a: 1\n---\nworkload:\n  phases:\n    - x:\n        module: {{mod}}\n"
              "        properties:\n          {{#opts}}k: v{{/opts}}\n          d: {{a}}{{b.c}}\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    errs = errors_of(r)
    assert len(errs) == 1, r.stderr
    assert errs[0].startswith(f"{p}:6:17: error: Some template tags were not given values: mod, opts, b.c")


def test_null_default_counts_as_given(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "extra:\n---\nworkload:\n  phases:\n    - x:\n        module: noop{{extra}}\n")
    r = fallout("validate", p)
    assert r.returncode == 0, r.stderr
    assert "module: noop\n" in r.stdout


def test_parameter_values_are_yaml_scalars(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "---\nworkload:\n  phases:\n    - x:\n        module: noop\n"
              "{{#on}}    - y:\n        module: fake\n{{/on}}")
    assert "module: fake" not in fallout("validate", p, "on=false").stdout
    assert "module: fake" in fallout("validate", p, "on=true").stdout


def test_errors_point_at_the_template_not_the_expansion(fallout, tmp_path):
    # The section repeats its two lines three times, so the expansion is four lines longer
    # than the template; the error must still name the line the user wrote.
    p = write(tmp_path, "t.yaml", "things: [1, 2, 3]\n---\nworkload:\n  phases:\n{{#things}}\n"
              "    - t{{.}}:\n        module: noop\n{{/things}}\n    - y:\n        module: slep\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert f"{p}:10:17: error: unknown module 'slep'" in r.stderr, r.stderr


def test_quoted_parameter_values_are_strings(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "---\nworkload:\n  phases:\n    - x:\n        module: text\n"
              "        properties:\n          text: v{{#t}}-on{{/t}}\n")
    assert "text: v\n" in fallout("validate", p, "t=false").stdout
    r = fallout("validate", p, "t='false'")   # a quoted YAML scalar: the string "false", truthy
    assert r.returncode == 0, r.stderr
    assert "text: v-on\n" in r.stdout


def test_library_partials(fallout):
    r = fallout("validate", "--library", LIBRARY, EXAMPLES / "library-partials.yaml")
    assert r.returncode == 0, r.stderr
    assert "checker: duration" in r.stdout and "duration.max: 1m" in r.stdout
    r = fallout("validate", EXAMPLES / "library-partials.yaml", env={"FALLOUT_LIBRARY": str(LIBRARY)})
    assert r.returncode == 0, r.stderr


def test_missing_partial_and_missing_library(fallout, tmp_path):
    r = fallout("validate", EXAMPLES / "library-partials.yaml")
    assert r.returncode == 2
    assert "partial 'standard-checkers' needs a test library: give --library DIR" in r.stderr
    r = fallout("validate", "--library", tmp_path, EXAMPLES / "library-partials.yaml")
    assert r.returncode == 2
    assert f"partial 'standard-checkers' was not found in the test library {tmp_path}" in r.stderr


def test_template_inheritance(fallout):
    r = fallout("validate", "--library", LIBRARY, EXAMPLES / "library-inheritance.yaml")
    assert r.returncode == 0, r.stderr
    assert "node.count: 3" in r.stdout          # overridden block
    assert "duration: 100ms" in r.stdout        # the parent's default block
    assert "module: bash" in r.stdout and "module: noop" not in r.stdout


def test_errors_in_a_partial_point_into_the_partial(fallout, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "frag.yaml", "- a:\n    module: sleep\n    properties:\n      duraton: 1s\n")
    p = write(tmp_path, "t.yaml", "workload:\n  phases:\n  {{> frag}}\n")
    r = fallout("validate", "--library", lib, p)
    assert r.returncode == 2
    assert f"{lib}/frag.yaml:4:7: error: unknown property 'duraton'" in r.stderr, r.stderr


def test_malformed_yaml(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "workload:\n  phases: [a, b\n  checkers: {}\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert re.search(rf"^{re.escape(str(p))}:\d+:\d+: error: invalid YAML", r.stderr, re.M), r.stderr


def test_tabs(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "workload:\n\tphases: []\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert f"{p}:2:1: error: a tab character cannot be used for indentation" in r.stderr, r.stderr


def test_duplicate_keys(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", SIMPLE + "  phases: []\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert f"{p}:7:3: error: duplicate key 'phases' (first defined at line 2)" in r.stderr


def test_binary_garbage(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", bytes(range(256)) * 64)
    r = fallout("validate", p)
    assert r.returncode == 2
    assert len(errors_of(r)) >= 1 and "Traceback" not in r.stderr
    assert str(p) in r.stderr


def test_a_50_mb_file(fallout, tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "w") as f:
        line = "# " + "x" * 1022 + "\n"
        for _ in range(50 * 1024):
            f.write(line)
    r = fallout("validate", p)
    assert r.returncode == 2
    assert "too large for a test definition (the limit is 8 MiB)" in r.stderr


def test_deep_nesting(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "workload: " + "[" * 200000 + "]" * 200000 + "\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert "nesting too deep" in r.stderr


def test_deep_phases_are_fine(fallout, tmp_path):
    text = "workload:\n  phases:\n"
    indent = "    "
    for i in range(60):
        text += f"{indent}- p{i}:\n"
        indent += "    "
    text += f"{indent}- leaf:\n{indent}    module: noop\n"
    r = fallout("validate", write(tmp_path, "t.yaml", text))
    assert r.returncode == 0, r.stderr


def test_unterminated_template_tag(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", SIMPLE + "# {{oops\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert f"{p}:7:3: error: unterminated tag" in r.stderr, r.stderr


def test_unclosed_section(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", "x: true\n---\n{{#x}}\n" + SIMPLE)
    r = fallout("validate", p)
    assert r.returncode == 2
    assert f"{p}:3:1: error: unclosed section 'x'" in r.stderr, r.stderr


def test_unterminated_reference(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", SIMPLE + "    - s:\n        module: bash\n        properties:\n"
              "          script: cat <<file:data.txt\n")
    r = fallout("validate", p)
    assert r.returncode == 2
    assert "unterminated reference '<<file:data.txt'" in r.stderr, r.stderr
    assert f"{p}:10:" in r.stderr


def test_heredoc_is_not_a_reference(fallout, tmp_path):
    p = write(tmp_path, "t.yaml", SIMPLE + "    - s:\n        module: bash\n        properties:\n"
              "          script: |\n            cat <<EOF\n            hi\n            EOF\n")
    r = fallout("validate", p)
    assert r.returncode == 0, r.stderr


def test_file_references_and_local_files(fallout, tmp_path):
    text = ("ensemble:\n  server:\n    node.count: 1\n    provisioner: local\n  client: server\n"
            "  local_files:\n    - path: data.txt\n      data: hello\n"
            "workload:\n  phases:\n    - s:\n        module: bash\n        properties:\n"
            "          script: cat <<file:data.txt>> <<file:nothere.txt>>\n")
    r = fallout("validate", write(tmp_path, "t.yaml", text))
    assert r.returncode == 2
    errs = errors_of(r)
    assert len(errs) == 1, r.stderr
    assert "<<file:nothere.txt>> is not defined in a local_files section" in errs[0]


def test_missing_file(fallout, tmp_path):
    r = fallout("validate", tmp_path / "nope.yaml")
    assert r.returncode == 2
    assert f"cannot open '{tmp_path}/nope.yaml'" in r.stderr


def test_a_directory(fallout, tmp_path):
    r = fallout("validate", tmp_path)
    assert r.returncode == 2
    assert "is a directory" in r.stderr


def test_empty_definition(fallout, tmp_path):
    r = fallout("validate", write(tmp_path, "t.yaml", ""))
    assert r.returncode == 2
    assert "the definition is empty" in r.stderr


def test_usage_errors(fallout):
    for args, msg in [((), "usage: fallout"), (("bogus",), "'bogus' is not a fallout command"),
                      (("--bogus",), "unknown option '--bogus'"), (("validate",), "which test definition?"),
                      (("validate", "--nope", "x.yaml"), "unknown option '--nope'"),
                      (("validate", "x.yaml", "noequals"), "'noequals' is not a parameter"),
                      (("validate", "--params"), "--params needs a value")]:
        r = fallout(*args)
        assert r.returncode == 2, args
        assert msg in r.stderr, (args, r.stderr)


def test_version_and_help(fallout):
    r = fallout("--version")
    assert r.returncode == 0 and re.match(r"fallout \d+\.\d+\.\d+", r.stdout)
    assert fallout("version").stdout == r.stdout
    r = fallout("help")
    assert r.returncode == 0 and "validate" in r.stdout and "components" in r.stdout
    r = fallout("help", "validate")
    assert r.returncode == 0 and "--library DIR" in r.stdout
    assert fallout("validate", "--help").stdout == r.stdout
    assert fallout("help", "nope").returncode == 2


def test_fixture_components_are_not_in_the_shipped_binary(fallout, fallout_test):
    corpus = ROOT / "tests" / "data" / "corpus"
    r = fallout("validate", corpus / "multithreadedemit.yaml")
    assert r.returncode == 2
    assert "unknown module 'multithreaded'" in r.stderr
    assert fallout_test("validate", corpus / "multithreadedemit.yaml").returncode == 0


def test_duplicate_key_from_a_partial(fallout, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "more.yaml", "phases: []\n")
    p = write(tmp_path, "t.yaml", SIMPLE + "  {{> more}}\n")
    r = fallout("validate", "--library", lib, p)
    assert r.returncode == 2
    assert f"{lib}/more.yaml:1:1: error: duplicate key 'phases' (first defined at {p}:2)" in r.stderr, r.stderr
