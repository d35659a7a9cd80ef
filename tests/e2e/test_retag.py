"""`truewheel retag`: the result installs with pip and imports, WHEEL and the name carry
the new tags, and every member it did not change is byte-identical in compressed form."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS, LOCAL, MANIFEST, run
from zips import make_wheel, raw_members


def installable_manifest_wheel():
    """A manifest wheel this machine's Python can install (cp311, x86_64, glibc)."""
    for e in MANIFEST["wheels"]:
        f = e["filename"]
        if "-cp311-" in f and "x86_64" in f and "musllinux" not in f and e["libc"] == "glibc":
            return CORPUS / f
    pytest.fail("the manifest has no cp311 x86_64 glibc wheel")


def check_unchanged_members(src: Path, out: Path, changed: set):
    a, b = raw_members(src), raw_members(out)
    for name, stored in a.items():
        if name in changed or name.endswith("/RECORD"):
            continue
        assert name in b, f"{name} vanished"
        assert b[name] == stored, f"{name} was not copied raw"


def test_retag_real_wheel_installs_and_keeps_members(tmp_path, fresh_venv):
    src = installable_manifest_wheel()
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = run("retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "out", src, check=0)
    new = Path(out.stdout.strip())
    assert new.parent == tmp_path / "out"
    assert new.name.endswith("-linux_x86_64.whl")
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before, "input was modified"
    report = json.loads(run("inspect", "--json", new, check=0).stdout)
    assert report["platform_tags"] == ["linux_x86_64"]
    assert all(t.endswith("-linux_x86_64") for t in report["wheel"]["tags"])
    assert report["record"]["ok"]
    dist_info = report["dist_info"]
    check_unchanged_members(src, new, {f"{dist_info}/WHEEL"})
    # pip is the judge.
    r = fresh_venv.pip("install", "--no-deps", new)
    assert r.returncode == 0, r.stderr
    top = [
        line.strip() for line in zipfile.ZipFile(new).read(f"{dist_info}/top_level.txt").decode().splitlines()
        if line.strip() and not line.startswith("_")
    ] if f"{dist_info}/top_level.txt" in zipfile.ZipFile(new).namelist() else []
    for mod in top[:1]:
        r = fresh_venv.run(f"import {mod}")
        assert r.returncode == 0, r.stderr


def test_retag_local_extension_imports(tmp_path, fresh_venv):
    wheels = sorted(LOCAL.glob("tw_cext-*.whl"))
    assert wheels, "make-local did not build tw_cext"
    src = wheels[0]
    new = Path(run("retag", "--python-tag", "+cp311", "--build", "7", "-w", tmp_path, src, check=0).stdout.strip())
    assert "-7-" in new.name
    check_unchanged_members(src, new, {n for n in zipfile.ZipFile(src).namelist() if n.endswith("/WHEEL")})
    r = fresh_venv.pip("install", new)
    assert r.returncode == 0, r.stderr
    r = fresh_venv.run("import tw_cext; print(tw_cext.add(2, 3))")
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) == 5


def test_retag_edits_sets_like_wheel_tags(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""})
    new = Path(run("retag", "--python-tag", "+py2", "-w", tmp_path / "o", src, check=0).stdout.strip())
    assert new.name == "demo-1.0-py2.py3-none-any.whl"
    wheel = zipfile.ZipFile(new).read("demo-1.0.dist-info/WHEEL").decode()
    assert [l for l in wheel.splitlines() if l.startswith("Tag:")] == ["Tag: py2-none-any", "Tag: py3-none-any"]
    new2 = Path(run("retag", "--python-tag", "-py2", "-w", tmp_path / "p", new, check=0).stdout.strip())
    assert new2.name == "demo-1.0-py3-none-any.whl"


def test_retag_is_deterministic(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"a = 1\n" * 100})
    a = Path(run("retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "a", src, check=0).stdout.strip())
    b = Path(run("retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "b", src, check=0).stdout.strip())
    assert a.read_bytes() == b.read_bytes()


def test_retag_refuses_to_overwrite_its_input(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""})
    before = src.read_bytes()
    r = run("retag", "--build", "1", "-w", tmp_path, src, check=0)
    assert Path(r.stdout.strip()).name == "demo-1.0-1-py3-none-any.whl"
    assert src.read_bytes() == before


def test_source_date_epoch_stamps_every_member(tmp_path):
    import os
    import subprocess

    from conftest import BIN

    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"", "demo/x.py": b"1"})
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")  # 2023-11-14 22:13:20 UTC
    out = subprocess.run([BIN, "retag", "--build", "3", "-w", tmp_path / "o", src],
                         capture_output=True, text=True, env=env, check=True).stdout.strip()
    stamps = {i.date_time for i in zipfile.ZipFile(out).infolist()}
    assert stamps == {(2023, 11, 14, 22, 13, 20)}
