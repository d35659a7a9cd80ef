"""`truewheel inspect --json` agrees with Python's zipfile and email parser, on every
manifest wheel and every wheel built here."""

import base64
import email.parser
import hashlib
import json
import zipfile

import pytest
from packaging.tags import parse_tag

from conftest import local_wheels, manifest_wheels, run

ALL = manifest_wheels() + [pytest.param(p, id=f"local/{p.name}") for p in local_wheels()]


def headers(data: bytes):
    # As importlib.metadata reads it: UTF-8 text through the email parser.
    msg = email.parser.Parser().parsestr(data.decode("utf-8"))
    return [[k, v] for k, v in msg.items()], msg.get_payload() or None


def python_record_ok(z: zipfile.ZipFile, dist_info: str) -> bool:
    rows = [r for r in z.read(f"{dist_info}/RECORD").decode().splitlines() if r]
    import csv

    listed = {}
    for path, h, size in csv.reader(rows):
        listed[path] = (h, size)
    for info in z.infolist():
        if info.is_dir() or info.filename.endswith(("/RECORD", "/RECORD.jws", "/RECORD.p7s")):
            continue
        if info.filename not in listed:
            return False
        h, size = listed[info.filename]
        alg, _, digest = h.partition("=")
        got = base64.urlsafe_b64encode(hashlib.new(alg, z.read(info)).digest()).rstrip(b"=").decode()
        if got != digest.rstrip("=") or (size and int(size) != info.file_size):
            return False
    names = {i.filename for i in z.infolist()}
    return all(p in names for p in listed)


@pytest.mark.parametrize("wheel", ALL)
def test_inspect_json_matches_zipfile_and_email(wheel):
    assert wheel.exists(), f"{wheel} is missing: run wheels-corpus/fetch and make-local"
    report = json.loads(run("inspect", "--json", wheel, check=0).stdout)
    assert report["filename"] == wheel.name
    with zipfile.ZipFile(wheel) as z:
        infos = z.infolist()
        ours = [(m["path"], m["size"], m["compressed_size"], m["compression"]) for m in report["members"]]
        theirs = [
            (i.filename, i.file_size, i.compress_size, {0: "stored", 8: "deflated"}[i.compress_type])
            for i in infos
        ]
        assert ours == theirs
        dist_info = report["dist_info"]
        fields, _ = headers(z.read(f"{dist_info}/WHEEL"))
        # A line may hold compressed sets (maturin 1.7 wrote them): it stands for
        # the tags `packaging.tags.parse_tag` reads from it, as pip reads it.
        tags = report["wheel"]["tags"]
        at = 0
        for line in (v.strip() for k, v in fields if k == "Tag"):
            meant = sorted(str(t) for t in parse_tag(line))
            assert sorted(tags[at:at + len(meant)]) == meant, line
            at += len(meant)
        assert at == len(tags)
        fields, body = headers(z.read(f"{dist_info}/METADATA"))
        assert report["metadata"]["fields"] == fields
        if body:
            assert report["metadata"]["description"] == body
        assert report["record"]["ok"] is python_record_ok(z, dist_info)
        assert report["record"]["ok"], report["record"]["issues"]
    # Every ELF member is listed as a binary with a summary.
    with zipfile.ZipFile(wheel) as z:
        elf = sorted(i.filename for i in z.infolist() if not i.is_dir() and z.open(i).read(4) == b"\x7fELF")
    assert sorted(b["path"] for b in report["binaries"] if b["binary"]["format"] == "elf") == elf


def test_inspect_text_names_the_wheel_and_tags(tmp_path):
    from zips import make_wheel

    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"x = 1\n"})
    out = run("inspect", w, check=0).stdout
    assert out.splitlines()[0] == "demo-1.0-py3-none-any.whl"
    assert "RECORD  ok (3 files hashed)" in out
    assert "py3-none-any" in out


def test_programs_of_every_format_are_binaries_whatever_their_names(tmp_path):
    """A Mach-O or PE program is listed as an ELF one is, though its name tells nothing
    (ruff's `.data/scripts/ruff`, setuptools' `cli-64.exe`); a Java class, which starts as
    a universal Mach-O file does, and a text starting with `MZ` are not. Each is given
    its machine, as ELF files are (an amd64 `.pyd` in a `win_arm64` wheel shows), and a
    WebAssembly module (pyodide's extensions) is a binary too."""
    from zips import make_wheel

    pe = bytearray(0x100)
    pe[:2], pe[0x3C], pe[0xE8:0xEE] = b"MZ", 0xE8, b"PE\0\0\x64\xaa"
    members = {
        "demo/_x.cpython-312-wasm32-emscripten.so": b"\0asm\x01\0\0\0" + bytes(56),
        "demo-1.0.data/scripts/tool": b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01" + bytes(56),
        "demo/cli-64.exe": bytes(pe),
        "demo/universal": b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(56),
        "demo/Foo.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(56),
        "demo/notes.txt": b"MZ is where the notes start, and they go on for a while.\n",
    }
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", members)
    report = json.loads(run("inspect", "--json", w, check=0).stdout)
    assert {b["path"]: b["summary"] for b in report["binaries"]} == {
        "demo-1.0.data/scripts/tool": "Mach-O 64-bit, arm64",
        "demo/cli-64.exe": "PE (Windows), arm64",
        "demo/universal": "Mach-O universal",
        "demo/_x.cpython-312-wasm32-emscripten.so": "WebAssembly module",
    }


def test_text_report_escapes_control_characters(tmp_path):
    """METADATA is the wheel's to write: its control characters are escaped on stdout,
    as in error sentences, so that a Summary cannot set the terminal's title or clear it;
    a folded value stays on its line."""
    from zips import make_wheel

    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""}, dist_info="demo-1.0.dist-info",
                   version="1.0\nSummary: \x1b]0;pwned\x07\x1b[2Jred\n folded")
    out = run("inspect", w, check=0).stdout
    assert "\x1b" not in out and "\x07" not in out, out
    assert "    Summary: \\u{1b}]0;pwned\\u{7}\\u{1b}[2Jred folded\n" in out, out


def test_record_and_metadata_as_python_tools_read_them(tmp_path):
    """A folder's RECORD row (`demo/,,`) is taken, as pip and installer take it; a hash
    for RECORD itself is a problem (installer and `wheel unpack` refuse it); METADATA
    with bare-CR line ends parses, as Python's email parser splits them."""
    import zipfile

    from zips import record_line

    def wheel(path, record_rows, metadata=b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"):
        files = {"demo/__init__.py": b"", "demo-1.0.dist-info/METADATA": metadata,
                 "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
        rows = [record_line(n, d) for n, d in files.items()] + record_rows
        with zipfile.ZipFile(path, "w") as z:
            for n, d in files.items():
                z.writestr(n, d)
            z.writestr("demo-1.0.dist-info/RECORD", "\n".join(rows) + "\n")
        return path

    (tmp_path / "a").mkdir()
    ok = wheel(tmp_path / "a" / "demo-1.0-py3-none-any.whl", ["demo/,,", "demo-1.0.dist-info/RECORD,,"])
    assert "RECORD  ok (3 files hashed)" in run("inspect", ok, check=0).stdout
    (tmp_path / "b").mkdir()
    bad = wheel(tmp_path / "b" / "demo-1.0-py3-none-any.whl",
                ["demo-1.0.dist-info/RECORD,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0"])
    err = run("inspect", bad, check=2).stderr
    assert "RECORD gives a hash for demo-1.0.dist-info/RECORD, itself, which it cannot hold" in err, err
    (tmp_path / "c").mkdir()
    cr = wheel(tmp_path / "c" / "demo-1.0-py3-none-any.whl", ["demo-1.0.dist-info/RECORD,,"],
               metadata=b"Metadata-Version: 2.1\rName: demo\rVersion: 1.0\rSummary: old Mac\r")
    assert "    Summary: old Mac\n" in run("inspect", cr, check=0).stdout
