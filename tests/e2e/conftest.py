"""Shared helpers for the end-to-end tests: they run the real fallout binary."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def _binary(env, default):
    path = os.environ.get(env) or str(ROOT / default)
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} is missing: run `make` first (or set {env})", returncode=2)
    return path


def _runner(env_var, default):
    exe = _binary(env_var, default)

    def run(*args, input=None, env=None, cwd=None, timeout=60):
        e = dict(os.environ)
        e.pop("FALLOUT_LIBRARY", None)
        if env:
            e.update(env)
        return subprocess.run([exe, *map(str, args)], input=input, capture_output=True, text=True,
                              env=e, cwd=cwd, timeout=timeout)
    run.path = exe
    return run


@pytest.fixture(scope="session")
def fallout():
    """Runs bin/fallout (the program users get)."""
    return _runner("FALLOUT", "bin/fallout")


@pytest.fixture(scope="session")
def fallout_test():
    """Runs the test build: bin/fallout plus Fallout's test-only fixture components."""
    return _runner("FALLOUT_TEST", "build/release/bin/fallout-test")


@pytest.fixture
def state(tmp_path):
    """A private state folder (work areas, ledgers, address claims) for one test."""
    d = tmp_path / "state"
    d.mkdir()
    return d
