"""`truewheel retag`: the result installs with pip and imports, WHEEL and the name carry
the new tags, and every member it did not change is byte-identical in compressed form."""

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS, LOCAL, MANIFEST, run
from zips import make_wheel, raw_members, record_line


def installable_manifest_wheel():
    """A manifest wheel this machine's Python can install (cp311, x86_64, glibc)."""
    for e in MANIFEST["wheels"]:
        f = e["filename"]
        if "-cp311-" in f and "x86_64" in f and "musllinux" not in f and e["libc"] == "glibc":
            return CORPUS / f
    pytest.fail("the manifest has no cp311 x86_64 glibc wheel")


def retagged(out_dir, *args):
    """Retags into `out_dir` (`-w`), and the new wheel's path: `retag` prints its file name
    alone, as `wheel tags` prints it for a script to take up."""
    name = run("retag", *args, "-w", out_dir, check=0).stdout.strip()
    assert name and "/" not in name, name
    return Path(out_dir) / name


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
    new = retagged(tmp_path / "out", "--platform-tag", "linux_x86_64", src)
    assert new.is_file()
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
    new = retagged(tmp_path, "--python-tag", "+cp311", "--build", "7", src)
    assert "-7-" in new.name
    check_unchanged_members(src, new, {n for n in zipfile.ZipFile(src).namelist() if n.endswith("/WHEEL")})
    r = fresh_venv.pip("install", new)
    assert r.returncode == 0, r.stderr
    r = fresh_venv.run("import tw_cext; print(tw_cext.add(2, 3))")
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) == 5


def test_retag_edits_sets_like_wheel_tags(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""})
    new = retagged(tmp_path / "o", "--python-tag", "+py2", src)
    assert new.name == "demo-1.0-py2.py3-none-any.whl"
    wheel = zipfile.ZipFile(new).read("demo-1.0.dist-info/WHEEL").decode()
    assert [l for l in wheel.splitlines() if l.startswith("Tag:")] == ["Tag: py2-none-any", "Tag: py3-none-any"]
    new2 = retagged(tmp_path / "p", "--python-tag", "-py2", new)
    assert new2.name == "demo-1.0-py3-none-any.whl"


def test_retag_is_deterministic(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"a = 1\n" * 100})
    a = retagged(tmp_path / "a", "--platform-tag", "linux_x86_64", src)
    b = retagged(tmp_path / "b", "--platform-tag", "linux_x86_64", src)
    assert a.read_bytes() == b.read_bytes()


def test_retag_refuses_to_overwrite_its_input(tmp_path):
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""})
    before = src.read_bytes()
    assert retagged(tmp_path, "--build", "1", src).name == "demo-1.0-1-py3-none-any.whl"
    assert src.read_bytes() == before


def test_source_date_epoch_stamps_every_member(tmp_path):
    import os
    import subprocess

    from conftest import BIN

    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"", "demo/x.py": b"1"})
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")  # 2023-11-14 22:13:20 UTC
    out = subprocess.run([BIN, "retag", "--build", "3", "-w", tmp_path / "o", src],
                         capture_output=True, text=True, env=env, check=True).stdout.strip()
    stamps = {i.date_time for i in zipfile.ZipFile(tmp_path / "o" / out).infolist()}
    assert stamps == {(2023, 11, 14, 22, 13, 20)}


WHEEL_CMD = Path(sys.executable).parent / "wheel"


def wheel_of(path: Path, wheel_text: str, comment: bytes = b"") -> Path:
    """A wheel of `demo` 1.0 whose WHEEL file is `wheel_text` (the name is `path`'s)."""
    members = {"demo/__init__.py": b"", "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
               "demo-1.0.dist-info/WHEEL": wheel_text.encode()}
    lines = [record_line(n, d) for n, d in members.items()] + ["demo-1.0.dist-info/RECORD,,"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
        z.writestr("demo-1.0.dist-info/RECORD", "\n".join(lines) + "\n")
        z.comment = comment
    return path


def wheel_tags(*args, cwd):
    return subprocess.run([WHEEL_CMD, "tags", *map(str, args)], capture_output=True, text=True, cwd=cwd)


HEAD = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"


def test_a_retag_that_keeps_the_name_leaves_the_file_as_wheel_tags_does(tmp_path):
    """Edits that give the name it has leave the wheel as it is, exit 0, however its WHEEL
    lines are laid out (an auditwheel-repaired wheel's Tag lines are not sorted): it was
    refused as overwriting its input."""
    name = "demo-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    text = HEAD + "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n\n"
    for args in ([], ["--platform-tag", "manylinux_2_17_x86_64.manylinux2014_x86_64"], ["--python-tag=-cp27"]):
        for tool, d in (("ours", tmp_path / "ours"), ("wheel", tmp_path / "theirs")):
            d.mkdir(exist_ok=True)
            src = wheel_of(d / name, text)
            before = src.read_bytes()
            if tool == "ours":
                assert run("retag", *args, src, check=0).stdout == f"{src.name}\n"
            else:
                assert wheel_tags(*args, src, cwd=d).returncode == 0
            assert src.read_bytes() == before and sorted(p.name for p in d.iterdir()) == [name], (tool, args)


def test_a_retag_that_keeps_the_name_still_checks_the_record(tmp_path):
    """A no-op on a damaged wheel does not pass for a good one: `wheel tags` fails on the
    WHEEL file's wrong hash too. The file is left as it is."""
    name = "demo-1.0-py3-none-any.whl"
    for tool, d in (("ours", tmp_path / "ours"), ("wheel", tmp_path / "theirs")):
        d.mkdir()
        src = wheel_of(d / name, HEAD + "Tag: py3-none-any\n")
        with zipfile.ZipFile(src) as z:
            members = {i.filename: z.read(i) for i in z.infolist()}
        members["demo-1.0.dist-info/WHEEL"] += b"\n"
        with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in members.items():
                z.writestr(n, data)
        before = src.read_bytes()
        if tool == "ours":
            err = run("retag", src, check=2).stderr
            assert "RECORD size mismatch for demo-1.0.dist-info/WHEEL" in err, err
        else:
            assert wheel_tags(src, cwd=d).returncode != 0
        assert src.read_bytes() == before and [p.name for p in d.iterdir()] == [name], tool


def test_the_archive_comment_is_kept_as_wheel_tags_keeps_it(tmp_path):
    src = wheel_of(tmp_path / "demo-1.0-py3-none-any.whl", HEAD + "Tag: py3-none-any\n", comment=b"a zip comment")
    ours = retagged(tmp_path / "o", "--python-tag", "+py2", src)
    assert wheel_tags("--python-tag", "+py2", src, cwd=tmp_path).returncode == 0
    theirs = tmp_path / "demo-1.0-py2.py3-none-any.whl"
    assert zipfile.ZipFile(ours).comment == zipfile.ZipFile(theirs).comment == b"a zip comment"


@pytest.mark.parametrize("wheel_text,said", [
    (HEAD + "Tag: py3-none-any\nBuild: 2\n", "its WHEEL file's build tag (2) is not its file name's (1)"),
    (HEAD + "Tag: py3-none-any\nTag: py3-none-linux_x86_64\nBuild: 1\n",
     "its WHEEL file's platform tags (any.linux_x86_64) are not its file name's (any)"),
])
def test_a_wheel_file_that_disagrees_with_the_name_is_refused_as_wheel_tags_refuses_it(tmp_path, wheel_text, said):
    """Retagged, one of the two would be kept and the other lost (the WHEEL file's extra
    tag silently dropped, its build tag left beside another in the name)."""
    src = wheel_of(tmp_path / "demo-1.0-1-py3-none-any.whl", wheel_text)
    err = run("retag", "--python-tag", "+py2", "-w", tmp_path / "o", src, check=2).stderr
    assert said in err and "demo-1.0-1-py3-none-any.whl" in err, err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
    assert wheel_tags("--python-tag", "+py2", src, cwd=tmp_path).returncode != 0


def test_a_build_tag_as_packaging_reads_it(tmp_path):
    """A build tag is digits, then anything but `-` (`1+x` was refused, and a wheel so
    named could not be opened)."""
    src = wheel_of(tmp_path / "demo-1.0-py3-none-any.whl", HEAD + "Tag: py3-none-any\n")
    new = retagged(tmp_path / "o", "--build", "1+x", src)
    assert new.name == "demo-1.0-1+x-py3-none-any.whl"
    run("inspect", new, check=0)
    err = run("retag", "--build", "1-2", "-w", tmp_path / "p", src, check=2).stderr
    assert "must start with a digit and hold no `-`" in err, err


def test_an_output_never_replaces_another_input_or_output(tmp_path):
    """`wheel tags` replaces them, and the wheel replaced is lost: here a wheel whose new
    name is another input's, and two inputs retagged into one name, are refused (exit 2),
    each by name, while the others are written."""
    a = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/a.py": b"A = 1"})
    b = make_wheel(tmp_path / "demo-1.0-py3-none-linux_x86_64.whl", {"demo/b.py": b"B = 1"}, tag="py3-none-linux_x86_64")
    before = b.read_bytes()
    proc = run("retag", "--platform-tag", "linux_x86_64", a, b)
    assert proc.returncode == 2, proc.stderr
    assert f"{a}: its retagged wheel would replace {b}, another wheel of this run" in proc.stderr, proc.stderr
    assert b.read_bytes() == before
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    one = make_wheel(tmp_path / "x" / "demo-1.0-py3-none-any.whl", {"demo/a.py": b"A = 1"})
    two = make_wheel(tmp_path / "y" / "demo-1.0-py3-none-any.whl", {"demo/a.py": b"A = 2"})
    out = tmp_path / "out"
    proc = run("retag", "--build", "7", "-w", out, one, two, b)
    assert proc.returncode == 2, proc.stderr
    assert f"{two}: its retagged wheel demo-1.0-7-py3-none-any.whl is also what {one} was retagged into" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["demo-1.0-7-py3-none-any.whl", "demo-1.0-7-py3-none-linux_x86_64.whl"]
    with zipfile.ZipFile(out / "demo-1.0-7-py3-none-any.whl") as z:
        assert z.read("demo/a.py") == b"A = 1"


@pytest.mark.parametrize("args", [
    ["--python-tag=cp311", "--python-tag=+cp312"],  # given twice: the last value
    ["--python=cp311"],  # a unique prefix
    ["--plat=manylinux_2_17_x86_64", "--abi=abi3", "--py=cp39"],
    ["--build", "123456789012345678901234567890"],  # more digits than 64 bits hold
])
def test_options_and_output_as_wheel_tags_reads_and_prints_them(tmp_path, args):
    """As `wheel tags` (argparse): an option given twice takes its last value (both were
    joined), a long option may be a unique prefix (refused), any number of build digits
    (refused over 19), and the file name alone is printed, for `dist/$(… retag …)` (the
    path was printed)."""
    name = "demo-1.0-py3-none-any.whl"
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours = run("retag", *args, wheel_of(tmp_path / "ours" / name, HEAD + "Tag: py3-none-any\n"), check=0)
    theirs = wheel_tags(*args, wheel_of(tmp_path / "theirs" / name, HEAD + "Tag: py3-none-any\n"),
                        cwd=tmp_path / "theirs")
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout and ours.stdout.strip() != name, (ours.stdout, theirs.stdout)
    new = tmp_path / "ours" / ours.stdout.strip()
    assert zipfile.ZipFile(new).read("demo-1.0.dist-info/WHEEL") == zipfile.ZipFile(
        tmp_path / "theirs" / theirs.stdout.strip()).read("demo-1.0.dist-info/WHEEL").rstrip(b"\n") + b"\n"
    run("inspect", new, check=0)


def test_wheel_and_record_modes_are_wheel_tags(tmp_path):
    """WHEEL keeps its mode and RECORD is written rw-rw-r--, as `wheel tags` writes them
    (RECORD was rw-r--r--)."""
    src = tmp_path / "demo-1.0-py3-none-any.whl"
    members = {"demo/__init__.py": b"", "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
               "demo-1.0.dist-info/WHEEL": (HEAD + "Tag: py3-none-any\n").encode()}
    lines = [record_line(n, d) for n, d in members.items()] + ["demo-1.0.dist-info/RECORD,,"]
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for (n, d), mode in zip({**members, "demo-1.0.dist-info/RECORD": ("\n".join(lines) + "\n").encode()}.items(),
                                (0o644, 0o644, 0o600, 0o640)):
            info = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr, info.compress_type = (0o100000 | mode) << 16, zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    ours = retagged(tmp_path / "o", "--platform-tag", "linux_x86_64", src)
    (tmp_path / "w").mkdir()
    shutil.copy(src, tmp_path / "w" / src.name)
    assert wheel_tags("--platform-tag", "linux_x86_64", src.name, cwd=tmp_path / "w").returncode == 0
    theirs = tmp_path / "w" / ours.name

    def modes(w):
        return {i.filename: oct(i.external_attr >> 16) for i in zipfile.ZipFile(w).infolist()}

    assert modes(ours) == modes(theirs), (modes(ours), modes(theirs))
    assert modes(ours)["demo-1.0.dist-info/RECORD"] == oct(0o100664)


def test_members_made_on_windows_keep_their_attributes(tmp_path):
    """A Windows wheel's members carry DOS attributes, not a Unix mode: copied, they keep
    them (they were written as Unix members of mode 0, which unzip and `wheel unpack`
    make unreadable files of); the WHEEL written anew gets rw-r--r--, and RECORD rw-rw-r--
    as `wheel tags` writes it."""
    src = tmp_path / "demo-1.0-cp311-cp311-win_amd64.whl"
    members = {"demo/__init__.py": b"x = 1\n", "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
               "demo-1.0.dist-info/WHEEL": (HEAD + "Tag: cp311-cp311-win_amd64\n").encode()}
    lines = [record_line(n, d) for n, d in members.items()] + ["demo-1.0.dist-info/RECORD,,"]
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in {**members, "demo-1.0.dist-info/RECORD": ("\n".join(lines) + "\n").encode()}.items():
            info = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr, info.compress_type = 0, 0x20, zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    new = retagged(tmp_path / "o", "--platform-tag", "win32", src)
    got = {i.filename: (i.create_system, i.external_attr) for i in zipfile.ZipFile(new).infolist()}
    assert got["demo/__init__.py"] == got["demo-1.0.dist-info/METADATA"] == (0, 0x20), got
    assert got["demo-1.0.dist-info/WHEEL"] == (3, 0o100644 << 16), got
    assert got["demo-1.0.dist-info/RECORD"] == (3, 0o100664 << 16), got
    # Unpacked, every file can be read.
    out = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", new, "-d", out], check=True)
    for f in out.rglob("*"):
        if f.is_file():
            assert f.stat().st_mode & 0o444, (f, oct(f.stat().st_mode))
            f.read_bytes()
    # Python's zipfile on Windows writes the file's mode above the DOS bits, which pip
    # reads whoever made the member: the WHEEL written anew keeps it (it got rw-r--r--),
    # and `inspect` shows it (it showed none).
    win = tmp_path / "win" / src.name
    win.parent.mkdir()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(win, "w", zipfile.ZIP_DEFLATED) as z:
        for i in zin.infolist():
            i.external_attr = (0o100666 << 16) | 0x20
            z.writestr(i, zin.read(i))
    new = retagged(tmp_path / "o2", "--platform-tag", "win32", win)
    got = {i.filename: (i.create_system, i.external_attr) for i in zipfile.ZipFile(new).infolist()}
    assert got["demo-1.0.dist-info/WHEEL"] == (3, 0o100666 << 16), got
    assert got["demo/__init__.py"] == (0, (0o100666 << 16) | 0x20), got
    modes = {m["path"]: m["mode"] for m in json.loads(run("inspect", "--json", win).stdout)["members"]}
    assert modes["demo/__init__.py"] == "666", modes
    assert all(m["mode"] is None for m in json.loads(run("inspect", "--json", src).stdout)["members"])
