"""`truewheel repair` refusing what it cannot or must not do, each with one sentence and
nothing half-written left behind: a policy it cannot meet, a `--plat` naming none, a
library it cannot find, a full disk or an output folder it cannot write; and the
outputs of a run claimed one by one (an output that would replace its input, or
another's, or a libs folder outside the wheel), with every report printed when one
wheel fails. The equivalence with auditwheel is `test_repair.py`, whose helpers these
tests share."""

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from conftest import CORPUS, LOCAL, MUSL_LIB, ROOT, musl_library, run
from test_repair import BUILT, VENV_BIN, env, truewheel_repair
from zips import make_wheel


def test_refuses_a_policy_it_cannot_meet(tmp_path):
    src = sorted(LOCAL.glob("tw_newglibc-*.whl"))[0]
    proc = run("repair", "--plat", "manylinux2014_x86_64", "-w", tmp_path / "out", src)
    assert proc.returncode == 1
    assert "cannot repair to `manylinux_2_17_x86_64` (`manylinux2014_x86_64`)" in proc.stderr, proc.stderr
    assert "too-recent versioned symbols" in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_policy_of_the_other_libc_or_none_is_named(tmp_path):
    src = sorted(LOCAL.glob("tw_cext-*.whl"))[0]
    proc = run("repair", "--plat", "musllinux_1_2_x86_64", "-w", tmp_path / "out", src)
    assert proc.returncode == 1
    assert "links glibc, so no musl policy can apply" in proc.stderr, proc.stderr
    # A --plat naming no policy is a mistake in the command, as auditwheel says (exit 2).
    proc = run("repair", "--plat", "manylinux_2_99_x86_64", "-w", tmp_path / "out", src)
    assert proc.returncode == 2
    assert "there is no policy `manylinux_2_99_x86_64`" in proc.stderr
    assert "manylinux_2_17_x86_64" in proc.stderr, "the hint lists the policies"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_linux_is_no_plat_to_repair_to(tmp_path):
    """`--plat linux_x86_64` is not among auditwheel's choices (exit 2 there): no repair
    reaches `linux`. Nothing is written."""
    src = sorted(LOCAL.glob("tw_cext-*.whl"))[0]
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "--plat", "linux_x86_64", "-w", tmp_path / "aw", src],
                            capture_output=True, text=True, env=env())
    assert theirs.returncode == 2
    proc = run("repair", "--plat", "linux_x86_64", "-w", tmp_path / "out", src, check=2)
    assert "`linux_x86_64` is not a valid --plat value" in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_missing_library_is_named(tmp_path):
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair",
                           "-w", tmp_path / "out", src], capture_output=True, text=True, env=env())
    assert proc.returncode == 2
    assert "libtwdemo.so.1" in proc.stderr and "could not be found" in proc.stderr
    assert "hint: install the library, or point LD_LIBRARY_PATH at its folder" in proc.stderr
    assert not list((tmp_path / "out").iterdir())
    # With --ldpaths, LD_LIBRARY_PATH is not searched: the hint says where to add it.
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair",
                           "--ldpaths", "/usr/lib", "-w", tmp_path / "out", src], capture_output=True, text=True,
                          env={**env(), "LD_LIBRARY_PATH": str(LOCAL / "libs")})
    assert proc.returncode == 2
    assert "hint: add its folder to --ldpaths (which replaces LD_LIBRARY_PATH" in proc.stderr, proc.stderr


def test_full_disk_leaves_nothing(tmp_path):
    """A 64 KiB tmpfs (in a mount namespace) cannot hold the repaired wheel."""
    src = sorted(BUILT.glob("pyyaml-*.whl"))[0]
    out = tmp_path / "small"
    out.mkdir()
    bin_ = os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel")
    script = f"mount -t tmpfs -o size=64k none {out} && {bin_} repair -w {out} {src}; echo exit=$?; ls -A {out}"
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True)
    assert "exit=2" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("exit=2"), f"files left behind: {proc.stdout}"
    assert proc.stderr.startswith("error: "), proc.stderr
    assert "No space left" in proc.stderr or "no space" in proc.stderr.lower()


def test_unwritable_output_dir(tmp_path):
    src = sorted(BUILT.glob("pyyaml-*.whl"))[0]
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run("repair", "-w", blocker / "sub", src)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot create the output directory")


def test_two_inputs_of_one_name_are_refused(tmp_path):
    """Two wheels of one file name would race for one output file: the later one is
    refused (exit 2), the first and every other wheel still repaired."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    cext = sorted(LOCAL.glob("tw_cext-*.whl"))[0]
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(src, other / src.name)
    out = tmp_path / "out"
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair",
                           "-w", out, src, other / src.name, cext], capture_output=True, text=True,
                          env=env(LOCAL / "libs"))
    assert proc.returncode == 2
    (line,) = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert f"{other / src.name} is given twice" in line, proc.stderr
    assert sorted(p.name.split("-")[0] for p in out.iterdir()) == ["tw_cext", "tw_needslib"]


def test_an_output_never_replaces_another_input(tmp_path):
    """`repair -w dist dist/*.whl`: an input refused (its own repair would replace it) or
    left in place is not replaced by another input's repair of its name either; that
    one is refused too, and every input is kept (the refused one lost its graft)."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    name = Path(truewheel_repair(src, tmp_path / "first", LOCAL / "libs")["output"]).name
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(src, dist / src.name)
    shutil.copy(src, dist / name)  # the unrepaired bytes under the repaired name
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    proc = tw("-w", dist, dist / src.name, dist / name, lib_dir=LOCAL / "libs")
    assert proc.returncode == 1, proc.stderr
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 2, proc.stderr
    assert any(f"would replace {dist / name}, another wheel of this run" in l for l in errors), errors
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before


def tw(*args, lib_dir=None):
    return subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair", *args],
                          capture_output=True, text=True, env=env(lib_dir))


def test_an_output_that_would_replace_its_input_is_refused(tmp_path):
    """A wheel already named as its repair would name it, repaired into its own folder,
    would be replaced by the output (auditwheel replaces it): refused, the input kept."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    name = Path(truewheel_repair(src, tmp_path / "first", LOCAL / "libs")["output"]).name
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(src, work / name)  # the unrepaired bytes under the repaired name
    before = (work / name).read_bytes()
    proc = tw("-w", work, work / name, lib_dir=LOCAL / "libs")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and "its repaired wheel would replace it" in proc.stderr
    assert "with -w" in proc.stderr
    assert (work / name).read_bytes() == before
    assert sorted(p.name for p in work.iterdir()) == [name]


def test_a_wheel_repair_leaves_as_it_is_may_be_in_its_own_folder(tmp_path):
    """`repair -w dist dist/*.whl` over wheels already repaired (or tagged by maturin):
    one that needs nothing and already carries the tags it reaches is left as it is,
    exit 0 (auditwheel rewrites it in place)."""
    src = CORPUS / "cffi-2.1.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    work = tmp_path / "dist"
    work.mkdir()
    shutil.copy(src, work / src.name)
    proc = tw("-w", work, work / src.name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(work / src.name)
    assert (work / src.name).read_bytes() == src.read_bytes()
    assert [p.name for p in work.iterdir()] == [src.name]


def test_a_libs_folder_out_of_the_wheel_is_refused(tmp_path):
    """`-L` is appended to the distribution's name; a `..` in it would write members
    outside the wheel (auditwheel writes them, and pip refuses the wheel)."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    proc = tw("-L=/../../evil", "-w", tmp_path / "out", src, lib_dir=LOCAL / "libs")
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: -L "/../../evil" would put the grafted libraries outside')
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    report = truewheel_repair(src, tmp_path / "sub", LOCAL / "libs", "-L", ".libs/")
    assert {g["member"].rsplit("/", 1)[0] for g in report["plan"]["grafts"]} == {"tw_needslib.libs"}


def test_two_inputs_reaching_one_output_name_write_one(tmp_path):
    """Inputs of different names can be repaired into one output name: the second to
    get there is refused, naming the first, and the first's wheel stays."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    name = Path(truewheel_repair(src, tmp_path / "first", LOCAL / "libs")["output"]).name
    other = tmp_path / "in"
    other.mkdir()
    shutil.copy(src, other / name)
    out = tmp_path / "out"
    proc = tw("-w", out, src, other / name, lib_dir=LOCAL / "libs")
    assert proc.returncode == 1, proc.stderr
    (line,) = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert f"its repaired wheel {name} is also what" in line and "different directories with -w" in line
    assert [p.name for p in out.iterdir()] == [name]
    assert (out / name).read_bytes() == (tmp_path / "first" / name).read_bytes()


def test_json_lists_the_wheels_written_when_another_fails(tmp_path):
    """One damaged wheel among several: every error is printed, `--json` still lists
    the wheels written, and the exit status is 2."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    bad = tmp_path / "broken-1.0-cp311-cp311-linux_x86_64.whl"
    bad.write_bytes(b"not a zip")
    out = tmp_path / "out"
    proc = tw("--json", "-w", out, bad, src, lib_dir=LOCAL / "libs")
    assert proc.returncode == 2, proc.stderr
    assert "broken-1.0-cp311-cp311-linux_x86_64.whl: it is not a zip archive" in proc.stderr
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["wheel"] for r in reports] == [src.name]
    assert Path(reports[0]["output"]).exists()


def test_the_c_library_is_never_grafted(tmp_path):
    """An extension built with `musl-gcc` needs musl's C library as `libc.so`, the name
    maturin's musl builds link it by too, which auditwheel's musllinux policies do not
    allow (they allow `libc.musl-x86_64.so.1`). Found on the search path, it was grafted
    (`repair` exited 0 with musl's libc in `demo.libs/`): the program would then carry a
    second C library beside the loader's. The repair is refused, saying why, and nothing
    is written; with `--exclude libc.so` the wheel is repaired as it is."""
    wheel = make_wheel(tmp_path / "demo-1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
                       {"demo/__init__.py": b"", "demo/_m.cpython-311-x86_64-linux-musl.so": musl_library(tmp_path)},
                       tag="cp311-cp311-musllinux_1_2_x86_64")
    out = tmp_path / "out"
    proc = run("repair", "--ldpaths", MUSL_LIB, "-w", out, wheel, check=1)
    assert ("demo/_m.cpython-311-x86_64-linux-musl.so needs libc.so, the C library, which no repair "
            "can bundle; link it by the name the policy allows, or leave it out with --exclude libc.so") in proc.stderr, proc.stderr
    assert not out.exists() or not list(out.iterdir())
    # Where it is not found, the same refusal, not "install the library".
    proc = run("repair", "--ldpaths", tmp_path / "none", "-w", out, wheel, check=1)
    assert "needs libc.so, the C library" in proc.stderr, proc.stderr
    proc = run("repair", "--ldpaths", MUSL_LIB, "--exclude", "libc.so", "-w", out, wheel, check=0)
    repaired = list(out.iterdir())
    assert [p.name for p in repaired] == [wheel.name]
    assert not [n for n in zipfile.ZipFile(repaired[0]).namelist() if ".libs/" in n]
