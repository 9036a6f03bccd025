"""Every example in README.md and docs/ runs, so the documentation cannot rot.

- In ```sh blocks, each line starting with `bin/fallout` is run from the repository root
  and must exit 0.
- A ```text block whose first line is `$ bin/fallout ...` shows a command and its exact
  output (stdout then stderr); the command is run and the output compared.
- A ```yaml block that is a whole definition (it has a top-level `workload:`, or extends
  a parent with `{{<`) must validate, with examples/library as the test library.
"""
import re
import shlex
import subprocess

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(kind):
    for doc in DOCS:
        for m in FENCE.finditer(doc.read_text()):
            if m.group(1) == kind:
                line = doc.read_text()[: m.start()].count("\n") + 1
                yield doc, line, m.group(2)


def ids(items):
    return [f"{d.relative_to(ROOT)}:{line}" for d, line, *_ in items]


SH = [(d, l, [c for c in text.splitlines() if re.search(r"(^|\|\s*)bin/fallout", c)])
      for d, l, text in blocks("sh")]
SH = [(d, l, cmds) for d, l, cmds in SH if cmds]
TEXT = [(d, l, text) for d, l, text in blocks("text") if text.startswith("$ bin/fallout")]
YAML = [(d, l, text) for d, l, text in blocks("yaml")
        if re.search(r"^workload:", text, re.M) or text.startswith("{{<")]


def run(fallout, cmdline, tmp_path):
    """Runs a documented command from the repository root, with fallout's state in a
    temporary folder; an `exec` writes its artifacts there too (not where the docs say,
    so the command can run again)."""
    cmdline = cmdline.split("  #")[0].strip()
    args = shlex.split(cmdline)
    assert args[0] == "bin/fallout"
    args = args[1:]
    if args and args[0] == "exec":
        out = str(tmp_path / f"run{len(list(tmp_path.glob('run*')))}")
        if "-o" in args:
            args[args.index("-o") + 1] = out
        else:
            args[1:1] = ["-o", out]
    return fallout(*args, cwd=ROOT, env={"FALLOUT_STATE_DIR": str(tmp_path / "state")})


def test_there_are_examples():
    assert sum(len(c) for _, _, c in SH) >= 10 and TEXT and len(YAML) >= 5


@pytest.mark.parametrize("doc,line,cmds", SH, ids=ids(SH))
def test_shell_examples(fallout, tmp_path, doc, line, cmds):
    """Each command of a block, in order; a pipeline into fallout runs through bash."""
    for cmd in cmds:
        if cmd.startswith("bin/fallout"):
            r = run(fallout, cmd, tmp_path)
        else:
            r = subprocess.run(["bash", "-c", cmd.replace("bin/fallout", fallout.path)], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{doc}:{line}: {cmd}\n{r.stderr}"


@pytest.mark.parametrize("doc,line,text", TEXT, ids=ids(TEXT))
def test_output_examples(fallout, tmp_path, doc, line, text):
    first, *expected = text.rstrip("\n").split("\n")
    r = run(fallout, first[2:], tmp_path)
    got = (r.stdout + r.stderr).rstrip("\n").split("\n")
    assert got == expected, f"{doc}:{line}"


@pytest.mark.parametrize("doc,line,text", YAML, ids=ids(YAML))
def test_yaml_examples_validate(fallout, tmp_path, doc, line, text):
    p = tmp_path / "example.yaml"
    p.write_text(text)
    r = fallout("validate", "-q", "--library", ROOT / "examples" / "library", p)
    assert r.returncode == 0, f"{doc}:{line}\n{r.stderr}"
