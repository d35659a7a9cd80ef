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
import shutil
import struct
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


def loader_finds_phdrs(data):
    """Whether glibc's loader finds a library's program headers where they are: without
    PT_PHDR it takes them from the first PT_LOAD whose pages, read from the file, hold
    them (at page sizes up to the segments' alignment, 64 KiB at most). Program headers
    moved right after the data segment's last page were read from its .bss, as zeros."""
    if data[:4] != b"\x7fELF":
        return True
    wide, e = data[4] == 2, "<" if data[5] == 1 else ">"
    etype = struct.unpack(e + "H", data[16:18])[0]
    if wide:
        phoff = struct.unpack(e + "Q", data[32:40])[0]
        phentsize, phnum = struct.unpack(e + "HH", data[54:58])
    else:
        phoff = struct.unpack(e + "I", data[28:32])[0]
        phentsize, phnum = struct.unpack(e + "HH", data[42:46])
    segs = []
    for i in range(phnum):
        o = phoff + i * phentsize
        if wide:
            kind, _, off, vaddr, _, filesz, _, align = struct.unpack(e + "IIQQQQQQ", data[o:o + 56])
        else:
            kind, off, vaddr, _, filesz, _, _, align = struct.unpack(e + "IIIIIIII", data[o:o + 32])
        segs.append((kind, off, vaddr, filesz, align))
    kinds = {k for k, *_ in segs}
    if etype != 3 or 3 in kinds or 6 in kinds:  # not ET_DYN, PT_INTERP, PT_PHDR
        return True
    loads = [s for s in segs if s[0] == 1]
    size = phnum * phentsize
    true = next((v + phoff - o for _, o, v, f, _ in loads if o <= phoff and phoff + size <= o + f), None)
    for page in (0x1000, 0x4000, 0x10000):
        if any(a < page for *_, a in loads):
            continue
        got = None
        for _, off, vaddr, filesz, _ in loads:
            mapoff = off & ~(page - 1)
            if mapoff <= phoff and phoff + size <= -(-(off + filesz) // page) * page:
                got = (vaddr & ~(page - 1)) + phoff - mapoff
                break
        if got != true:
            return False
    return True


# Python code: `phdrs_as_loaded(wanted)` gives the loaded objects whose path `wanted`
# accepts, and those of them for which the program headers the loader gives
# (dl_iterate_phdr, which C++ exceptions and unwinders use) are not the file's.
PHDRS_CHECK = r"""
import ctypes, os, struct
class Phdr(ctypes.Structure):
    _fields_ = [("p_type", ctypes.c_uint32), ("rest", ctypes.c_uint8 * 52)]
class Info(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_void_p), ("name", ctypes.c_char_p), ("phdr", ctypes.POINTER(Phdr)), ("phnum", ctypes.c_uint16)]
def file_types(path):
    data = open(path, "rb").read()
    phoff, = struct.unpack("<Q", data[32:40])
    size, n = struct.unpack("<HH", data[54:58])
    return [struct.unpack("<I", data[phoff + i * size:phoff + i * size + 4])[0] for i in range(n)]
def phdrs_as_loaded(wanted):
    checked, bad = [], []
    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Info), ctypes.c_size_t, ctypes.c_void_p)
    def each(info, size, data):
        i = info.contents
        name = i.name.decode() if i.name else ""
        if name and wanted(name):
            checked.append(name)
            got = [i.phdr[k].p_type for k in range(i.phnum)]
            if got != file_types(name):
                bad.append((name, got))
        return 0
    ctypes.CDLL(None).dl_iterate_phdr(each, None)
    return checked, bad
"""

# Every library loaded from a wheel's .libs folder has its file's program headers.
PHDRS_AS_LOADED = PHDRS_CHECK + r"""
checked, bad = phdrs_as_loaded(lambda name: ".libs/" in name)
assert checked and not bad, (checked, bad)
"""


def manifest_wheels():
    """Every manifest wheel (not the bench ones), as (id, path)."""
    out = []
    for entry in MANIFEST["wheels"]:
        out.append(pytest.param(CORPUS / entry["filename"], id=entry["filename"]))
    return out


def local_wheels():
    return sorted(LOCAL.glob("*.whl"))


MUSL_LIB = Path("/usr/lib/x86_64-linux-musl")


def musl_library(tmp_path: Path) -> bytes:
    """A shared object built with `musl-gcc`, which needs musl's C library as `libc.so`
    (as maturin's musl builds link it), a name auditwheel's musllinux policies do not
    allow."""
    musl_gcc = shutil.which("musl-gcc")
    assert musl_gcc, "musl-gcc is missing: scripts/check installs musl-tools"
    assert (MUSL_LIB / "libc.so").exists(), f"{MUSL_LIB}/libc.so is missing: scripts/check installs musl-tools"
    src = tmp_path / "m.c"
    src.write_text("#include <string.h>\nsize_t width(const char *s) { return strlen(s); }\n")
    so = tmp_path / "_m.so"
    subprocess.run([musl_gcc, "-shared", "-fPIC", "-O2", "-o", so, src], check=True)
    needed = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
    assert "Shared library: [libc.so]" in needed, needed
    return so.read_bytes()


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
