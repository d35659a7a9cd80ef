"""Small helpers to make wheels, good and bad, with Python's zipfile."""

import base64
import hashlib
import zipfile
from pathlib import Path


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(path: Path, files: dict, name="demo", version="1.0", tag="py3-none-any",
               dist_info=None, record=True, extra_members=(), executable=()):
    """Writes a wheel holding `files` plus a valid .dist-info (unless told otherwise);
    the members named in `executable` get mode 0755."""
    dist_info = dist_info or f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    rec = f"{dist_info}/RECORD"
    lines = [record_line(n, d) for n, d in members.items()] + [f"{rec},,"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            if n in executable:
                info = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = 0o100755 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, d)
            else:
                z.writestr(n, d)
        for n, d in extra_members:
            z.writestr(zipfile.ZipInfo(n), d)
        if record:
            z.writestr(rec, "\n".join(lines) + "\n")
    return path


def raw_members(path: Path) -> dict:
    """Each member's stored (still compressed) bytes, read through its local header."""
    out = {}
    data = Path(path).read_bytes()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            off = info.header_offset
            name_len = int.from_bytes(data[off + 26:off + 28], "little")
            extra_len = int.from_bytes(data[off + 28:off + 30], "little")
            start = off + 30 + name_len + extra_len
            out[info.filename] = (info.compress_type, data[start:start + info.compress_size])
    return out
