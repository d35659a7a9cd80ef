"""`truewheel repair` where the wheel's files find their libraries differently: two
extensions that need one library name and find it in different folders (each through
its own RUNPATH) get each its own graft, as auditwheel grafts them, and each graft's own
needs are renamed to what that extension's tree found."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import BIN
from zips import make_wheel

VENV_BIN = Path(sys.executable).parent


def gcc(cwd, out, source, *flags):
    src = cwd / (out.name + ".c")
    src.write_text(source)
    proc = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, src, *flags], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def test_one_name_found_in_two_folders_is_grafted_twice(tmp_path):
    """`_ma` finds `libfoo.so.1` in `fooA`, `_mb` in `fooB` (each library brings its own
    `libbar.so.1` from beside it). Both files are grafted, under their own hashes as
    auditwheel names them, each extension renamed to its own, and each graft to its own
    `libbar` (before, the first member's `libfoo` was grafted alone and `_mb` bound to
    it: `undefined symbol: foo_b` once installed)."""
    build = tmp_path / "build"
    build.mkdir()
    libs = {}
    for side, value in (("A", 10), ("B", 20)):
        d = tmp_path / f"foo{side}"
        d.mkdir()
        gcc(build, d / "libbar.so.1", f"int bar(void) {{ return {value}; }}\n", "-Wl,-soname,libbar.so.1")
        gcc(build, d / "libfoo.so.1", f"int bar(void);\nint foo_{side.lower()}(void) {{ return bar() + 1; }}\n",
            "-Wl,-soname,libfoo.so.1", f"-L{d}", "-l:libbar.so.1", "-Wl,-rpath,$ORIGIN")
        ext = gcc(build, build / f"_m{side.lower()}.so", f"int foo_{side.lower()}(void);\n"
                  f"int value(void) {{ return foo_{side.lower()}(); }}\n",
                  f"-L{d}", "-l:libfoo.so.1", f"-Wl,--enable-new-dtags,-rpath,{d}")
        libs[side] = d
        libs["_m" + side.lower()] = ext.read_bytes()
    tag = "py3-none-linux_x86_64"
    src = make_wheel(tmp_path / f"twtwo-1.0-{tag}.whl",
                     {"twtwo/__init__.py": b"", "twtwo/_ma.so": libs["_ma"], "twtwo/_mb.so": libs["_mb"]}, name="twtwo",
                     tag=tag)
    e = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    e["PATH"] = f"{VENV_BIN}:{e['PATH']}"
    proc = subprocess.run([BIN, "repair", "--json", "-w", tmp_path / "ours", src], capture_output=True, text=True, env=e)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "-w", tmp_path / "theirs", src],
                            capture_output=True, text=True, env=e)
    assert theirs.returncode == 0, theirs.stderr
    (aw,) = (tmp_path / "theirs").glob("*.whl")

    def libs_of(wheel):
        return sorted(n for n in zipfile.ZipFile(wheel).namelist() if ".libs/" in n and not n.endswith("/"))

    ours = Path(report["output"])
    assert ours.name == aw.name
    assert libs_of(ours) == libs_of(aw)
    assert len([n for n in libs_of(ours) if "/libfoo-" in n]) == 2
    assert len([n for n in libs_of(ours) if "/libbar-" in n]) == 2
    by_source = {g["source"]: g for g in report["plan"]["grafts"]}
    for side in "AB":
        foo, bar = by_source[str(libs[side] / "libfoo.so.1")], by_source[str(libs[side] / "libbar.so.1")]
        assert foo["edits"]["replace_needed"] == [["libbar.so.1", bar["new_soname"]]]
        ext = report["plan"]["members"][f"twtwo/_m{side.lower()}.so"]
        assert ["libfoo.so.1", foo["new_soname"]] in ext["replace_needed"]

    # Installed, with both folders gone: each extension calls its own library.
    for side in "AB":
        shutil.rmtree(libs[side])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = subprocess.run([venv / "bin" / "pip", "install", "-q", "--no-deps", ours], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    code = ("import ctypes, os, twtwo\nd = os.path.dirname(twtwo.__file__)\n"
            "print(ctypes.CDLL(os.path.join(d, '_ma.so')).value(), ctypes.CDLL(os.path.join(d, '_mb.so')).value())")
    ran = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True, env=e, cwd=tmp_path)
    assert (ran.returncode, ran.stdout) == (0, "11 21\n"), ran.stderr


def test_an_empty_library_path_entry_is_the_current_folder(tmp_path):
    """glibc's loader takes an empty LD_LIBRARY_PATH entry (`$X:/opt/lib` with X unset)
    for the current folder, and `;` for a separator: the library found there is grafted
    (it was not found)."""
    from conftest import LOCAL

    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    for value in (":/nonexistent", "/nonexistent;", "/nonexistent::/x"):
        e = dict(os.environ, LD_LIBRARY_PATH=value)
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        proc = subprocess.run([BIN, "repair", "--json", "-w", out, src], capture_output=True, text=True, env=e,
                              cwd=LOCAL / "libs")
        assert proc.returncode == 0, (value, proc.stderr)
        sources = {g["soname"]: g["source"] for g in json.loads(proc.stdout)["plan"]["grafts"]}
        assert sources["libtwdemo.so.1"] == str((LOCAL / "libs" / "libtwdemo.so.1").resolve()), sources
