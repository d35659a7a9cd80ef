"""The static CLI (`--target x86_64-unknown-linux-musl`): what a release pipeline runs
inside a manylinux container, as cibuildwheel's `repair-wheel-command`. Such a container's
C library is older than the one the host's build links (manylinux2014's glibc is 2.17),
so that build cannot start there; the static one asks for no loader and no library. In a
root holding nothing but it, the wheel and the wheel's libraries (no C library, no
`ld.so.cache`, no package database, no `/proc`), it repairs to the same bytes as the
host's build."""

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, LOCAL, ROOT

STATIC = Path(os.environ.get("TRUEWHEEL_STATIC_BIN",
                             ROOT / "target" / "x86_64-unknown-linux-musl" / "release" / "truewheel"))
BUILT = Path(os.environ.get("TRUEWHEEL_BUILT", ROOT / "target" / "corpus" / "built"))
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


@pytest.fixture(scope="module", autouse=True)
def _static_exists():
    if not STATIC.exists():
        pytest.fail(f"{STATIC} does not exist; scripts/check builds it")


def readelf(*args):
    proc = subprocess.run(["readelf", "-W", *args, str(STATIC)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_it_needs_no_loader_and_no_library():
    assert "INTERP" not in readelf("-l")
    assert "(NEEDED)" not in readelf("-d")


def test_it_repairs_in_an_empty_root_as_the_host_build_does(tmp_path):
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "out").mkdir()
    shutil.copy(STATIC, root / "truewheel")
    shutil.copy(src, root / "in" / src.name)
    shutil.copytree(LOCAL / "libs", root / "libs")
    assert sorted(p.name for p in root.iterdir()) == ["in", "libs", "out", "truewheel"]

    def inside(*args):
        return subprocess.run([CHROOT, str(root), "/truewheel", *args], capture_output=True, text=True,
                              env={"LD_LIBRARY_PATH": "/libs"})

    shown = inside("show", f"/in/{src.name}")
    assert shown.returncode == 0, shown.stderr
    repaired = inside("repair", "-w", "/out", f"/in/{src.name}")
    assert repaired.returncode == 0, repaired.stderr
    (made,) = (root / "out").glob("*.whl")
    assert made.name == "tw_needslib-0.1.0-cp311-cp311-manylinux1_x86_64.manylinux_2_5_x86_64.whl"

    host = tmp_path / "host"
    proc = subprocess.run([str(BIN), "repair", "-q", "-w", host, src], capture_output=True, text=True,
                          env={**os.environ, "LD_LIBRARY_PATH": str(LOCAL / "libs")})
    assert proc.returncode == 0, proc.stderr
    assert made.read_bytes() == (host / made.name).read_bytes()


def test_it_writes_what_the_host_build_writes_with_the_package_database(tmp_path):
    """On the host, with dpkg's database (so an SBOM names libyaml's Debian package) and a
    psycopg2 that grafts twenty libraries: byte for byte the same wheels."""
    wheels = sorted(BUILT.glob("pyyaml-*.whl")) + sorted(BUILT.glob("psycopg2-*.whl"))
    assert len(wheels) == 2, wheels
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    for binary, out in [(STATIC, tmp_path / "static"), (BIN, tmp_path / "host")]:
        proc = subprocess.run([str(binary), "repair", "-q", "-w", out, *wheels], capture_output=True,
                              text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        assert "panicked" not in proc.stderr
    made = sorted(p.name for p in (tmp_path / "static").iterdir())
    assert made == sorted(p.name for p in (tmp_path / "host").iterdir()) and len(made) == 2
    for name in made:
        assert (tmp_path / "static" / name).read_bytes() == (tmp_path / "host" / name).read_bytes(), name
    assert made[1].startswith("pyyaml-")
    assert any("sboms/" in n for n in zipfile.ZipFile(tmp_path / "host" / made[1]).namelist())
