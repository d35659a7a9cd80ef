"""Shared fixtures for the end-to-end tests.

The tests drive the real `truewheel` binary, the real pip into fresh virtual
environments, and (later) the real auditwheel and patchelf as references. Paths come
from the environment that scripts/check sets up:

  TRUEWHEEL_BIN      the truewheel binary (default: target/release/truewheel)
  TRUEWHEEL_CORPUS   cache of the manifest wheels (wheels-corpus/fetch)
  TRUEWHEEL_LOCAL    wheels built here by wheels-corpus/make-local
"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("TRUEWHEEL_BIN", ROOT / "target" / "release" / "truewheel"))
CORPUS = Path(os.environ.get("TRUEWHEEL_CORPUS", Path.home() / ".cache" / "truewheel" / "corpus"))
LOCAL = Path(os.environ.get("TRUEWHEEL_LOCAL", ROOT / "target" / "corpus" / "local"))
MANIFEST = json.loads((ROOT / "wheels-corpus" / "manifest.json").read_text())


def manifest_wheels():
    """Every manifest wheel (not the bench ones), as (id, path)."""
    out = []
    for entry in MANIFEST["wheels"]:
        out.append(pytest.param(CORPUS / entry["filename"], id=entry["filename"]))
    return out


def local_wheels():
    return sorted(LOCAL.glob("*.whl"))


def run(*args, check=None, **kw):
    """Runs truewheel; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)
    assert "panicked" not in proc.stderr, proc.stderr
    assert "RUST_BACKTRACE" not in proc.stderr, proc.stderr
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


class Venv:
    """A fresh virtual environment with its own pip."""

    def __init__(self, path: Path):
        self.path = path
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        self.python = path / "bin" / "python"

    def pip(self, *args):
        return subprocess.run(
            [str(self.python), "-m", "pip", "--disable-pip-version-check", "-q", *map(str, args)],
            capture_output=True, text=True,
        )

    def run(self, code, env=None):
        return subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, env=env)


@pytest.fixture
def fresh_venv(tmp_path):
    return Venv(tmp_path / "venv")


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not BIN.exists():
        pytest.exit(f"{BIN} does not exist; run scripts/check (it builds it)", returncode=2)
