"""The static CLI (`--target x86_64-unknown-linux-musl`): what a release pipeline runs
inside a manylinux container, as cibuildwheel's `repair-wheel-command`. Such a container's
C library is older than the one the host's build links (manylinux2014's glibc is 2.17),
so that build cannot start there; the static one asks for no loader and no library. In a
root holding nothing but it, the wheel and the wheel's libraries (no C library, no
`ld.so.cache`, no package database, no `/proc`), it repairs to the same bytes as the
host's build."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, CORPUS, LOCAL, ROOT

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


# auditwheel on a musl system of version 1.1, as in a musllinux_1_1 container: its
# `Libc.detect()` and musl version, which it reads from `/lib/libc.musl-*.so.1`.
AUDITWHEEL_ON_MUSL_1_1 = """
import sys
from pathlib import Path
import auditwheel.libc as libc
libc._find_musl_libc = lambda: Path("/lib/libc.musl-x86_64.so.1")
libc._get_musl_version = lambda path: libc.LibcVersion(1, 1)
from auditwheel.main import main
sys.argv = ["auditwheel", "show", "--json", sys.argv[1]]
sys.exit(main())
"""


def test_on_a_musl_system_it_evaluates_that_musl_as_auditwheel_does(tmp_path):
    """In a root whose `/lib/libc.musl-x86_64.so.1` (here a stand-in that prints what
    musl 1.1.24's loader prints) says musl 1.1, as in a musllinux_1_1 container,
    auditwheel evaluates musllinux_1_1 only; so do we, with the same JSON. On this
    glibc host both evaluate the newest musllinux policy instead."""
    wheel = CORPUS / "MarkupSafe-2.1.5-cp311-cp311-musllinux_1_1_x86_64.whl"
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "in").mkdir()
    source = tmp_path / "ld.c"
    source.write_text('#include <stdio.h>\nint main(void) { fputs("musl libc (x86_64)\\n'
                      'Version 1.1.24\\nDynamic Program Loader\\n", stderr); return 1; }\n')
    built = subprocess.run(["gcc", "-static", "-O1", "-o", root / "lib" / "libc.musl-x86_64.so.1", source],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    shutil.copy(STATIC, root / "truewheel")
    shutil.copy(wheel, root / "in" / wheel.name)
    inside = subprocess.run([CHROOT, str(root), "/truewheel", "show", "--json", f"/in/{wheel.name}"],
                            capture_output=True, text=True, env={})
    assert inside.returncode == 0, inside.stderr
    ours = json.loads(inside.stdout)
    theirs = subprocess.run([sys.executable, "-c", AUDITWHEEL_ON_MUSL_1_1, wheel], capture_output=True, text=True)
    assert theirs.returncode == 0, theirs.stderr
    assert ours == json.loads(theirs.stdout)
    assert ours["overall_tag"] == "musllinux_1_1_x86_64"
    on_glibc = json.loads(subprocess.run([str(STATIC), "show", "--json", wheel], capture_output=True,
                                         text=True, check=True).stdout)
    assert on_glibc["overall_tag"] == "musllinux_1_2_x86_64"
