"""Bad input gets one clear sentence and exit status 2, never a panic; the input is never
written to and no output file is left behind."""

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from conftest import run
from zips import make_wheel, record_line

NAME = "demo-1.0-py3-none-any.whl"


def error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert all(l.startswith(("error: ", "hint: ")) for l in lines), proc.stderr
    return lines[0]


def bad_wheel(tmp_path, name, members):
    """A zip with exactly these (name, data) members, written as given."""
    p = tmp_path / NAME
    with zipfile.ZipFile(p, "w") as z:
        for n, d in members:
            z.writestr(zipfile.ZipInfo(n), d)
    return p


def good_members(extra=()):
    meta = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    wheel = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = [("demo/__init__.py", b""), *extra, ("demo-1.0.dist-info/METADATA", meta),
             ("demo-1.0.dist-info/WHEEL", wheel)]
    rec = "\n".join(record_line(n, d) for n, d in files) + "\ndemo-1.0.dist-info/RECORD,,\n"
    return files + [("demo-1.0.dist-info/RECORD", rec.encode())]


def check_both_commands(tmp_path, wheel, expect):
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    for cmd in (["inspect"], ["retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "out"]):
        proc = run(*cmd, wheel)
        assert proc.returncode == 2, proc
        assert expect in error_line(proc), proc.stderr
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == digest
    out = tmp_path / "out"
    assert not out.exists() or not list(out.iterdir()), "a file was left in the output directory"


def test_tampered_member(tmp_path):
    src = make_wheel(tmp_path / NAME, {"demo/_mod.py": b"x = 1\n"})
    data = {i.filename: zipfile.ZipFile(src).read(i) for i in zipfile.ZipFile(src).infolist()}
    data["demo/_mod.py"] = b"x = 2\n"
    tampered = bad_wheel(tmp_path, NAME, list(data.items()))
    check_both_commands(tmp_path, tampered, "RECORD hash mismatch for demo/_mod.py: expected sha256=")
    proc = run("inspect", tampered)
    assert f"in {NAME}" in proc.stderr
    assert "hint: " in proc.stderr


def test_not_a_zip(tmp_path):
    p = tmp_path / NAME
    p.write_bytes(b"this is not a zip file at all, just text\n" * 10)
    check_both_commands(tmp_path, p, "is not a zip archive")


def test_empty_file(tmp_path):
    p = tmp_path / NAME
    p.write_bytes(b"")
    check_both_commands(tmp_path, p, "the file is empty")


def test_truncated(tmp_path):
    src = make_wheel(tmp_path / "x.whl", {"demo/__init__.py": b"x" * 5000})
    p = tmp_path / NAME
    p.write_bytes(src.read_bytes()[:-200])
    check_both_commands(tmp_path, p, "truncated")


@pytest.mark.parametrize("member,reason", [
    ("../evil.py", "climbs out of the archive"),
    ("demo/../../evil.py", "climbs out of the archive"),
    ("demo/sub/../x.py", "has a `..` path component"),
    ("/etc/evil", "absolute path"),
    ("demo\\evil.py", "backslash"),
    ("C:/evil.py", "drive letter"),
])
def test_escaping_names(tmp_path, member, reason):
    p = bad_wheel(tmp_path, NAME, good_members([(member, b"boom")]))
    check_both_commands(tmp_path, p, reason)


def test_duplicate_member(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = bad_wheel(tmp_path, NAME, good_members([("demo/x.py", b"1"), ("demo/x.py", b"2")]))
    check_both_commands(tmp_path, p, "member demo/x.py appears twice")


def test_dist_info_does_not_match_name(tmp_path):
    p = make_wheel(tmp_path / NAME, {"other/__init__.py": b""}, name="other", version="1.0")
    p = p.rename(tmp_path / NAME)
    check_both_commands(tmp_path, p, "does not match the file name")


def test_metadata_version_disagrees(tmp_path):
    p = make_wheel(tmp_path / "demo-2.0-py3-none-any.whl", {"demo/__init__.py": b""},
                   dist_info="demo-2.0.dist-info", version="1.0")
    for cmd in (["inspect"], ["retag", "--build", "1", "-w", tmp_path / "out"]):
        proc = run(*cmd, p)
        assert proc.returncode == 2
        assert "version 1.0, the file name 2.0" in error_line(proc)


def test_missing_record(tmp_path):
    p = make_wheel(tmp_path / NAME, {"demo/__init__.py": b""}, record=False)
    check_both_commands(tmp_path, p, "RECORD is missing")


def test_bad_file_name(tmp_path):
    p = tmp_path / "demo.zip"
    p.write_bytes(b"PK")
    proc = run("inspect", p)
    assert proc.returncode == 2
    assert "not a wheel file name" in error_line(proc)


def test_metadata_version_spelled_otherwise_is_the_same(tmp_path):
    """The file name's version and METADATA's are compared as PEP 440 versions, as pip
    compares them: `1.0a1` is `1.0alpha1`."""
    p = make_wheel(tmp_path / "demo-1.0a1-py3-none-any.whl", {"demo/__init__.py": b""},
                   dist_info="demo-1.0a1.dist-info", version="1.0alpha1")
    assert "version 1.0a1" in run("inspect", p, check=0).stdout
    p = tmp_path / "demo-1..0-py3-none-any.whl"
    p.write_bytes(b"PK")
    assert "has an invalid version `1..0`: it is not a PEP 440 version" in error_line(run("inspect", p, check=2))


@pytest.mark.parametrize("command", ["inspect", "audit"])
def test_one_unreadable_wheel_hides_no_other(tmp_path, command):
    """Every wheel given is reported; the ones that cannot be read are said after, each
    by name, in argument order, and the exit status is 2. `--json` is an array for
    several wheels asked, however many could be read."""
    good = make_wheel(tmp_path / NAME, {"demo/__init__.py": b""})
    other = make_wheel(tmp_path / "other-2.0-py3-none-any.whl", {"other/__init__.py": b""}, name="other", version="2.0")
    missing = tmp_path / "gone-1.0-py3-none-any.whl"
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    proc = run(command, missing, good, broken, other, check=2)
    assert NAME in proc.stdout and other.name in proc.stdout, proc.stdout
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 2 and missing.name in errors[0] and broken.name in errors[1], proc.stderr
    proc = run(command, "--json", good, missing, check=2)
    reports = json.loads(proc.stdout)
    assert isinstance(reports, list) and len(reports) == 1, proc.stdout


def test_missing_file(tmp_path):
    proc = run("inspect", tmp_path / NAME)
    assert proc.returncode == 2
    assert error_line(proc) == f"error: cannot open {tmp_path / NAME}: no such file or directory"


def test_unwritable_output_dir(tmp_path):
    src = make_wheel(tmp_path / NAME, {"demo/__init__.py": b""})
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run("retag", "--build", "1", "-w", blocker / "sub", src)
    assert proc.returncode == 2
    assert "cannot create the output directory" in error_line(proc)


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_not_a_regular_file(tmp_path, kind):
    """A named pipe is refused, not waited on (opening one blocks until a writer
    comes), and a directory is named as one, not called a truncated archive."""
    p = tmp_path / NAME
    if kind == "fifo":
        os.mkfifo(p)
    else:
        p.mkdir()
    what = "a named pipe" if kind == "fifo" else "a directory"
    for cmd in (["inspect"], ["audit"], ["repair", "-w", tmp_path / "out"], ["patchelf", "--print-needed"]):
        proc = run(*cmd, p, timeout=60)
        assert proc.returncode == 2, proc
        assert error_line(proc) == f"error: cannot open {p}: it is {what}, not a regular file", cmd
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_output_dir_is_a_file(tmp_path):
    src = make_wheel(tmp_path / NAME, {"demo/__init__.py": b""})
    blocker = tmp_path / "file"
    blocker.write_text("")
    for cmd in (["retag", "--build", "1"], ["repair"]):
        proc = run(*cmd, "-w", blocker, src)
        assert proc.returncode == 2
        assert error_line(proc) == f"error: cannot write into {blocker}: it is a file, not a directory"
        assert "hint: give -w a directory" in proc.stderr
    assert blocker.read_text() == ""


def test_max_ratio_is_more_than_n_times(tmp_path):
    """`--max-ratio N` refuses a member over 64 MiB that inflates more than N times its
    size: 1.6-fold is over 1 (integer division made it 1, so it passed), and 2 takes it."""
    half = os.urandom(1 << 20)
    data = b"".join(half + bytes(len(half) * 2 // 3) for _ in range(40))  # ~1.6-fold, 67 MiB
    p = make_wheel(tmp_path / NAME, {"demo/blob.bin": data})
    err = run("--max-ratio", "1", "inspect", p, check=2).stderr
    assert "demo/blob.bin" in err and "past the limit of 1" in err, err
    run("--max-ratio", "2", "inspect", p, check=0)


def test_many_jobs_are_as_many_threads_as_help(tmp_path):
    """`-j 100000` started that many threads (minutes on one small wheel); more than a
    few a core cannot help, so that is all it starts."""
    import subprocess

    from conftest import BIN

    p = make_wheel(tmp_path / NAME, {"demo/__init__.py": b""})
    for command in (["audit", "-j", "100000", p], ["repair", "-j", "100000", "--allow-pure-python-wheel", "-w",
                                                   tmp_path / "out", p]):
        assert subprocess.run([BIN, *command], capture_output=True, timeout=60).returncode == 0, command
