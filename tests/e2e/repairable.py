"""Wheels that need `repair`, made on the spot: small private libraries and C extensions
built with gcc in a temp folder, then wheels written with Python's zipfile (a RECORD with
every hash). The libraries stay outside the wheels, so repairing one grafts them; the
folder that holds them goes into LD_LIBRARY_PATH, as with make-local's tw_needslib.

Libraries (the SONAME is what the extensions need):
  libtwcbase.so.0   tiny
  libtwca.so.1      tiny, needs libtwcbase.so.0 (a graft that brings its own dependency)
  libtwcb.so.2      tiny
  libtwcbig.so.3    a large incompressible blob (`.incbin`), so grafting it takes time
Extension kinds (each an ELF that the repair patches):
  a, b, ab          need libtwca / libtwcb / both
  big               needs libtwcbig and libtwcb
  fat               needs libtwca and carries its own large incompressible blob
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import random
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

HOST_TAG = "cp{0}{1}-cp{0}{1}-{2}".format(
    *sys.version_info[:2], sysconfig.get_platform().replace("-", "_").replace(".", "_"))

EXT_SOURCES = {
    "a": "int twc_a(int);\nint ext_value(int x) { return twc_a(x); }\n",
    "b": "int twc_b(int);\nint ext_value(int x) { return twc_b(x); }\n",
    "ab": "int twc_a(int); int twc_b(int);\nint ext_value(int x) { return twc_a(twc_b(x)); }\n",
    "big": "int twc_big(int); int twc_b(int);\nint ext_value(int x) { return twc_big(x) + twc_b(x); }\n",
    "fat": "int twc_a(int);\n%s\nint ext_value(int x) { return twc_a(x) + ext_blob[x]; }\n",
}
EXT_LIBS = {
    "a": ["libtwca.so.1"],
    "b": ["libtwcb.so.2"],
    "ab": ["libtwca.so.1", "libtwcb.so.2"],
    "big": ["libtwcbig.so.3", "libtwcb.so.2"],
    "fat": ["libtwca.so.1"],
}


def blob_asm(symbol: str, path: Path) -> str:
    """C text that puts the file at `path` into .rodata as `symbol` (no huge C array)."""
    return (
        f'__asm__(".section .rodata.{symbol},\\"a\\"\\n.global {symbol}\\n.type {symbol}, @object\\n'
        f'{symbol}:\\n.incbin \\"{path}\\"\\n.size {symbol}, .-{symbol}\\n.previous\\n");\n'
        f"extern const unsigned char {symbol}[];\n"
    )


def gcc(cwd: Path, source: str, out: Path, soname: str | None = None, libs=(), lib_dir: Path | None = None):
    c = cwd / f"{out.name}.c"
    c.write_text(source)
    cmd = ["gcc", "-shared", "-fPIC", "-O2", c.name, "-o", str(out)]
    if soname:
        cmd.append(f"-Wl,-soname,{soname}")
    if libs:
        cmd += [f"-L{lib_dir}", *(f"-l:{l}" for l in libs)]
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return out


class Toolkit:
    """The libraries (in `lib_dir`) and one compiled extension per kind."""

    def __init__(self, work: Path, big_lib_mb: int = 4, fat_ext_mb: int = 2, seed: int = 7):
        self.work = work
        self.lib_dir = work / "libs"
        self.lib_dir.mkdir(parents=True)
        build = work / "build"
        build.mkdir()
        rng = random.Random(seed)
        big_blob = build / "big.bin"
        big_blob.write_bytes(rng.randbytes(big_lib_mb << 20))
        fat_blob = build / "fat.bin"
        fat_blob.write_bytes(rng.randbytes(fat_ext_mb << 20))
        d = self.lib_dir
        gcc(build, "int twc_base(void) { return 7; }\n", d / "libtwcbase.so.0", "libtwcbase.so.0")
        gcc(build, "int twc_base(void);\nint twc_a(int x) { return x + twc_base(); }\n",
            d / "libtwca.so.1", "libtwca.so.1", ["libtwcbase.so.0"], d)
        gcc(build, "int twc_b(int x) { return 2 * x; }\n", d / "libtwcb.so.2", "libtwcb.so.2")
        gcc(build, blob_asm("twc_blob", big_blob) + "int twc_big(int i) { return twc_blob[i]; }\n",
            d / "libtwcbig.so.3", "libtwcbig.so.3")
        self.ext = {}
        for kind, src in EXT_SOURCES.items():
            if kind == "fat":
                src = src % blob_asm("ext_blob", fat_blob)
            out = gcc(build, src, build / f"ext_{kind}.so", libs=EXT_LIBS[kind], lib_dir=d)
            self.ext[kind] = out.read_bytes()

    def env(self, **extra):
        """The environment a repair needs: the libraries on LD_LIBRARY_PATH; no
        SOURCE_DATE_EPOCH (timestamps then come from the input and a fixed epoch)."""
        e = dict(os.environ, LD_LIBRARY_PATH=str(self.lib_dir), **extra)
        e.pop("SOURCE_DATE_EPOCH", None)
        return e


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def write_wheel(out_dir: Path, dist: str, version: str, tag: str, files: dict) -> Path:
    """`files` maps a member name to (bytes, mode, compress_type)."""
    dist_info = f"{dist}-{version}.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nSummary: repair test\n".encode(),
        0o644, zipfile.ZIP_DEFLATED)
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: truewheel-tests\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(),
        0o644, zipfile.ZIP_DEFLATED)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for name, (data, _, _) in members.items():
        w.writerow([name, record_hash(data), len(data)])
    w.writerow([f"{dist_info}/RECORD", "", ""])
    members[f"{dist_info}/RECORD"] = (buf.getvalue().encode(), 0o644, zipfile.ZIP_DEFLATED)
    path = out_dir / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, (data, mode, method) in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 2, 2, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = method
            z.writestr(info, data, compresslevel=1)
    return path


def package(tk: Toolkit, pkg: str, kinds, data_mb: float = 0, seed: int = 0) -> dict:
    """Package members: `__init__.py`, one extension per kind (in subpackages after the
    first), and optionally an incompressible data file."""
    files = {f"{pkg}/__init__.py": (f"NAME = {pkg!r}\n".encode(), 0o644, zipfile.ZIP_DEFLATED)}
    for k, kind in enumerate(kinds):
        where = pkg if k == 0 else f"{pkg}/sub{k}"
        files[f"{where}/_ext_{kind}.so"] = (tk.ext[kind], 0o755, zipfile.ZIP_DEFLATED)
    if data_mb:
        blob = random.Random(seed).randbytes(int(data_mb * (1 << 20)))
        # Stored: incompressible anyway, and fast to write.
        files[f"{pkg}/data.bin"] = (blob, 0o644, zipfile.ZIP_STORED)
    return files


def fifty_wheels(tk: Toolkit, out_dir: Path, count: int = 50) -> list[Path]:
    """`count` distinct wheels: names, versions, tags, one to five extensions of varied
    kinds; some graft the large library, some carry a large extension or a large data
    member."""
    out_dir.mkdir(parents=True, exist_ok=True)
    small = ["a", "b", "ab"]
    wheels = []
    for i in range(count):
        dist = f"twc_conc{i:02d}" if i % 3 else f"twc_other_{i}"
        version = f"{1 + i % 3}.{i % 7}.{i}"
        tag = "cp39-abi3-linux_x86_64" if i % 5 == 4 else HOST_TAG
        kinds = [small[(i + k) % 3] for k in range(1 + i % 4)]
        if i % 5 == 0:
            kinds.append("big")
        if i % 7 == 3:
            kinds.append("fat")
        data_mb = 1.5 if i % 6 == 1 else 0
        files = package(tk, dist, kinds, data_mb, seed=i)
        wheels.append(write_wheel(out_dir, dist, version, tag, files))
    return wheels
