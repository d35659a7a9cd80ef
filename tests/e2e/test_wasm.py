"""The WASM build (truewheel-wasm) gives the CLI's answers: under Node, in the inspector
page (Debian's Chromium driven by playwright-core), and in the GitHub Action.

Needs wasm/build's output (TRUEWHEEL_WASM_OUT, default target/wasm-out) and Node;
scripts/check makes both. Screenshots of the page go to TRUEWHEEL_TEST_OUTPUT (default
target/test-output).
"""

import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, LOCAL, ROOT, local_wheels, manifest_wheels, musl_library, run
from zips import make_wheel, record_line

WASM_OUT = Path(os.environ.get("TRUEWHEEL_WASM_OUT", ROOT / "target" / "wasm-out"))
PKG_NODE = WASM_OUT / "pkg-node"
TEST_OUTPUT = Path(os.environ.get("TRUEWHEEL_TEST_OUTPUT", ROOT / "target" / "test-output"))
NODE = shutil.which("node")
RUNNER = ROOT / "tests" / "wasm" / "run.cjs"
SAMPLE_GOOD = ROOT / "wheels-corpus" / "samples" / "tw_cext-0.1.0-cp311-cp311-linux_x86_64.whl"


@pytest.fixture(scope="module", autouse=True)
def _wasm_built():
    if NODE is None:
        pytest.fail("node is not installed; scripts/check needs Node 20 or newer")
    if not (PKG_NODE / "truewheel_wasm.js").exists():
        pytest.fail(f"{PKG_NODE} is missing; build it with wasm/build (scripts/check does)")


def node_run(command, *args, options=None, pkg=PKG_NODE):
    env = {**os.environ, "TRUEWHEEL_AUDIT_OPTIONS": json.dumps(options) if options else ""}
    proc = subprocess.run([NODE, str(RUNNER), str(pkg), command, *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def all_wheels():
    return [p.values[0] for p in manifest_wheels()] + local_wheels()


# ---------------------------------------------------------------- parity under Node

@pytest.fixture(scope="module")
def wasm_audits():
    wheels = all_wheels()
    assert len(wheels) >= 40, f"expected the manifest and local corpus, found {len(wheels)} wheels"
    return {Path(r["file"]).name: r for r in node_run("audit", *wheels)}


@pytest.fixture(scope="module")
def wasm_inspects():
    return {Path(r["file"]).name: r for r in node_run("inspect", *all_wheels())}


def _param(p):
    return pytest.param(p, id=p.name)


CORPUS_PARAMS = [_param(p.values[0]) for p in manifest_wheels()] + [_param(p) for p in local_wheels()]


@pytest.mark.parametrize("wheel", CORPUS_PARAMS)
def test_audit_parity(wheel, wasm_audits):
    """`audit(bytes)` under Node is `truewheel audit --json --wheel-only`, byte for byte."""
    cli = run("audit", "--json", "--wheel-only", wheel)
    got = wasm_audits[wheel.name]
    if cli.returncode == 2:
        assert not got["ok"], f"the CLI refused {wheel.name} but the WASM build did not"
        assert cli.stderr.startswith(f"error: {got['error']['message']}\n"), (cli.stderr, got)
        return
    assert cli.returncode in (0, 1), cli.stderr
    assert got["ok"], got
    assert got["json"] + "\n" == cli.stdout


@pytest.mark.parametrize("wheel", CORPUS_PARAMS)
def test_inspect_parity(wheel, wasm_inspects):
    """`inspect(bytes)` under Node is `truewheel inspect --json`, byte for byte."""
    cli = run("inspect", "--json", wheel)
    got = wasm_inspects[wheel.name]
    assert got["ok"], got
    assert got["json"] + "\n" == cli.stdout


def test_audit_options_parity():
    """`exclude` is `--exclude`, `plat` `--plat` (the report's `tag_verdicts` holds its
    verdict alone, as the exit status reflects it) and `disable_isa_ext_check`
    `--disable-isa-ext-check`."""
    wheel = LOCAL / "tw_needslib-0.1.0-cp311-cp311-linux_x86_64.whl"
    cli = run("audit", "--json", "--wheel-only", "--exclude", "libtwdemo*", "--plat", "manylinux_2_5_x86_64", wheel,
              check=0)
    [got] = node_run("audit", wheel, options={"exclude": ["libtwdemo*"], "plat": "manylinux_2_5_x86_64"})
    assert got["ok"], got
    assert got["json"] + "\n" == cli.stdout
    assert json.loads(cli.stdout)["overall_tag"] != "linux_x86_64"
    assert json.loads(cli.stdout)["tag_verdicts"] == {"manylinux_2_5_x86_64": True}
    [bad] = node_run("audit", wheel, options={"plat": "manylinux_2_17"})
    cli = run("audit", "--plat", "manylinux_2_17", wheel, check=2)
    assert cli.stderr.startswith(f"error: {bad['error']['message']}\n")
    # `disable_isa_ext_check` is `--disable-isa-ext-check`.
    isa = LOCAL / "tw_elfcase_isa_v3-0.1.0-py3-none-linux_x86_64.whl"
    cli = run("audit", "--json", "--wheel-only", "--disable-isa-ext-check", isa, check=0)
    [got] = node_run("audit", isa, options={"disable_isa_ext_check": True})
    assert got["ok"], got
    assert got["json"] + "\n" == cli.stdout
    assert json.loads(cli.stdout)["overall_tag"] == "manylinux_2_5_x86_64"


def test_retag_parity(tmp_path):
    """`retag` in WASM writes the bytes `truewheel retag` writes (same SOURCE_DATE_EPOCH)."""
    src = SAMPLE_GOOD
    cli_dir, wasm_dir = tmp_path / "cli", tmp_path / "wasm"
    cli_dir.mkdir()
    wasm_dir.mkdir()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    run("retag", "--platform-tag", "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "--build", "3", "-w", cli_dir, src, check=0, env=env)
    edits = json.dumps({"platform": ["manylinux_2_17_x86_64", "+manylinux2014_x86_64"], "build": "3"})
    [res] = node_run("retag", src, wasm_dir, edits, 1700000000)
    assert res["ok"], res
    [cli_out] = cli_dir.iterdir()
    assert res["name"] == cli_out.name == "tw_cext-0.1.0-3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert (wasm_dir / res["name"]).read_bytes() == cli_out.read_bytes()


def test_retag_refuses_like_the_cli(tmp_path):
    [res] = node_run("retag", SAMPLE_GOOD, tmp_path, json.dumps({"platform": "-linux_x86_64"}), 0)
    cli = run("retag", "--platform-tag=-linux_x86_64", "-w", tmp_path, SAMPLE_GOOD, check=2)
    assert cli.stderr.startswith(f"error: {res['error']['message']}\n")


# ---------------------------------------------------------------- bad input

def huge_member_wheel(path: Path, stored: bool):
    """A small wheel whose member `huge/data.bin` declares 2 GiB uncompressed (and, when
    `stored`, 2 GiB stored too), in both the local header and the central directory."""
    make_wheel(path, {"huge/data.bin": b"\0" * 1000}, name="huge")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        off = z.getinfo("huge/data.bin").header_offset
    struct.pack_into("<I", data, off + 22, 2 << 30)
    if stored:
        struct.pack_into("<H", data, off + 8, 0)
        struct.pack_into("<I", data, off + 18, 2 << 30)
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46:i + 46 + n] == b"huge/data.bin":
            struct.pack_into("<I", data, i + 24, 2 << 30)
            if stored:
                struct.pack_into("<H", data, i + 10, 0)
                struct.pack_into("<I", data, i + 20, 2 << 30)
        i = data.find(b"PK\x01\x02", i + 4)
    path.write_bytes(data)
    return path


@pytest.fixture
def bad_wheels(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    not_zip = d / "notzip-1.0-py3-none-any.whl"
    not_zip.write_bytes(b"<html>this is a download error page, not a wheel</html>\n" * 20)
    return [not_zip,
            huge_member_wheel(d / "huge-1.0-py3-none-any.whl", stored=False),
            huge_member_wheel(d / "hugestored-1.0-py3-none-any.whl", stored=True)]


def test_unreadable_wheels_give_the_cli_message(bad_wheels):
    results = {Path(r["file"]).name: r for r in node_run("audit", *bad_wheels)}
    for w in bad_wheels:
        got = results[w.name]
        assert not got["ok"] and not got["error"]["trap"], got
        cli = run("audit", "--json", "--wheel-only", w, check=2)
        # The CLI's hint may go on to name the flag that raises a limit, which a page has not.
        assert cli.stderr.startswith(f"error: {got['error']['message']}\nhint: {got['error']['hint']}")
        assert cli.stderr.count("\n") == 2, cli.stderr
        assert w.name in got["error"]["message"]


def test_verify_hashes_with_the_hosts_hasher(tmp_path):
    """`WheelFile.verify(progress, hasher)` hashes with the host's hash objects (the Action
    gives Node's crypto, which is native): the same answers as the module's own hashing,
    for sha256 and sha512 RECORDs, good and changed; the hasher's digests are what is
    compared (all-zero digests fail a good wheel); and a factory that throws leaves the
    hashing to the module."""
    import base64
    import hashlib

    good = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/_mod.py": b"x = 1\n" * 100_000})
    members = {i.filename: zipfile.ZipFile(good).read(i) for i in zipfile.ZipFile(good).infolist()}
    (tmp_path / "changed").mkdir()
    changed = tmp_path / "changed" / good.name
    with zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in {**members, "demo/_mod.py": b"x = 2\n" * 100_000}.items():
            z.writestr(n, d)
    # The same wheel with a sha512 RECORD.
    (tmp_path / "sha512").mkdir()
    strong = tmp_path / "sha512" / good.name
    record = "demo-1.0.dist-info/RECORD"
    lines = [f"{n},sha512={base64.urlsafe_b64encode(hashlib.sha512(d).digest()).rstrip(b'=').decode()},{len(d)}"
             for n, d in members.items() if n != record] + [f"{record},,"]
    with zipfile.ZipFile(strong, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in {**members, record: ("\n".join(lines) + "\n").encode()}.items():
            z.writestr(n, d)

    def verify(kind):
        return {Path(r["file"]).parent.name: r for r in node_run("verify", kind, good, changed, strong)}

    own, node = verify("none"), verify("node")
    assert own[tmp_path.name]["ok"] and own["sha512"]["ok"], own
    assert not own["changed"]["ok"] and "RECORD hash mismatch for demo/_mod.py" in own["changed"]["error"]["message"]
    assert node == own, (node, own)
    zero = verify("zero")
    for r in zero.values():
        assert not r["ok"] and "RECORD hash mismatch for demo/_mod.py" in r["error"]["message"], zero
        assert not r["error"]["trap"], r
    assert verify("throws") == own


# ---------------------------------------------------------------- the inspector page

@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([NODE, str(ROOT / "wasm" / "serve"), "--port", "0", "--dir", str(WASM_OUT / "www")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.match(r"serving (http://127\.0\.0\.1:\d+/)", line)
    assert m, line + proc.stderr.read()
    yield m.group(1)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def bad_tagged(tmp_path_factory):
    """tw_newglibc (needs GLIBC_2.28) claiming manylinux_2_17: fails its own tag."""
    d = tmp_path_factory.mktemp("badtag")
    src = LOCAL / "tw_newglibc-0.1.0-cp311-cp311-linux_x86_64.whl"
    run("retag", "--platform-tag", "manylinux_2_17_x86_64", "-w", d, src, check=0)
    return d / "tw_newglibc-0.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"


def cli_audit(wheel):
    proc = run("audit", "--json", "--wheel-only", wheel)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), proc.returncode == 0


def browse(url, outdir, pick=(), drop=(), screenshot="inspector"):
    cmd = [NODE, str(ROOT / "tests" / "wasm" / "browser.cjs"), url, str(outdir),
           "--pick", *map(str, pick), "--drop", *map(str, drop), "--screenshot", screenshot]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT / "tests" / "wasm")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_inspector_shows_the_verdicts_and_reasons(server, bad_tagged, bad_wheels, tmp_path):
    needslib = LOCAL / "tw_needslib-0.1.0-cp311-cp311-linux_x86_64.whl"
    picked = [bad_tagged, SAMPLE_GOOD, needslib]
    # A macOS extension tagged manylinux: no ELF file, and not pure.
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    macho = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01" + bytes(0x100)
    foreign = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/_core.cpython-311-darwin.so": macho}, tag=tag)
    # A pure wheel tagged with a policy that does not exist.
    nopolicy = make_wheel(tmp_path / "nopolicy-1.0-py3-none-manylinux_2_3_x86_64.whl", {"nopolicy/__init__.py": b""},
                          name="nopolicy", tag="py3-none-manylinux_2_3_x86_64")
    page = browse(server, TEST_OUTPUT, pick=picked, drop=[*bad_wheels, foreign, nopolicy])
    assert page["version"].startswith("truewheel ")
    assert page["pageErrors"] == [] and page["console"] == [], page
    assert page["offsite"] == [], "the page must not fetch anything from elsewhere"
    cards = {c["file"]: c for c in page["cards"]}
    assert [c["file"] for c in page["cards"]] == [p.name for p in picked + bad_wheels + [foreign, nopolicy]]
    card = cards[nopolicy.name]
    cli = run("audit", nopolicy, check=1).stdout.splitlines()
    assert card["verdict"] == "fail" and card["verdictText"] == "✗ fails manylinux_2_3_x86_64", card
    assert card["notes"] == ["pure: no ELF files", cli[2].strip()], card
    card = cards[foreign.name]
    cli = run("audit", foreign, check=1).stdout.splitlines()
    assert card["verdict"] == "fail" and card["verdictText"] == "✗ fails manylinux_2_17_x86_64", card
    assert card["notes"] == ["no ELF files, but a binary for another system (Mach-O 64-bit, arm64)", cli[2].strip()]
    assert card["binaries"] == ["demo/_core.cpython-311-darwin.so Mach-O 64-bit, arm64"], card
    assert all(c["strayText"] == [] for c in page["cards"]), [c["strayText"] for c in page["cards"]]

    for wheel in picked:
        card = cards[wheel.name]
        report, passes = cli_audit(wheel)
        assert card["state"] == "done", card
        wanted = ".".join(report["platform_tags"])
        assert card["verdict"] == ("pass" if passes else "fail")
        assert card["verdictText"] == f"{'✓ meets' if passes else '✗ fails'} {wanted} (its own tag)"
        assert card["best"] == report["overall_tag"]
        shown = [(g["rulesOut"], r) for g in card["groups"] for r in g["reasons"]]
        assert shown == [(f["rules_out"], f["text"]) for f in report["findings"]]
        assert [row[0].split("ELF")[0] for row in card["libraries"]] == [e["path"] for e in report["elfs"]]
        assert card["record"] == "ok"
        assert card["metadataName"] == wheel.name.split("-")[0]

    bad = cards[bad_tagged.name]
    assert bad["verdictText"] == "✗ fails manylinux_2_17_x86_64 (its own tag)"
    assert bad["best"] == "manylinux_2_28_x86_64"
    assert bad["groups"][0]["rulesOut"] == "manylinux_2_27_x86_64"
    assert bad["groups"][0]["reasons"][0].startswith("needs GLIBC_2.28 in tw_newglibc/")
    lib = bad["libraries"][0]
    assert lib[2] == "libc.so.6" and "GLIBC_2.28" in lib[4]
    good = cards[SAMPLE_GOOD.name]
    assert good["verdict"] == "pass" and good["best"] == "manylinux_2_5_x86_64" and good["groups"] == []
    needs = cards[needslib.name]
    assert needs["best"] == "linux_x86_64"
    assert any("libtwdemo.so.1" in r for g in needs["groups"] for r in g["reasons"])

    for w in bad_wheels:
        card = cards[w.name]
        cli = run("inspect", w, check=2)
        assert card["state"] == "error" and card["verdict"] == "error", card
        assert cli.stderr.startswith(f"error: {card['error']}\n"), (cli.stderr, card)
        assert card["hint"].startswith("hint: ")
    assert (TEST_OUTPUT / "inspector.png").stat().st_size > 10_000


def big_wheel(path: Path, megabytes: int, member_mb: int = 16):
    """A valid wheel of about `megabytes` MB of incompressible members of `member_mb` MB
    (stored)."""
    name, version = "big", "1.0"
    di = f"{name}-{version}.dist-info"
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(megabytes // member_mb):
            data = os.urandom(member_mb << 20)
            z.writestr(f"big/blob{i:02}.bin", data)
            rows.append(record_line(f"big/blob{i:02}.bin", data))
        for leaf, text in [("METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
                           ("WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")]:
            z.writestr(f"{di}/{leaf}", text)
            rows.append(record_line(f"{di}/{leaf}", text.encode()))
        z.writestr(f"{di}/RECORD", "\n".join(rows + [f"{di}/RECORD,,"]) + "\n")
    return path


def test_inspector_large_wheel_stays_responsive(server, tmp_path):
    """A wheel of hundreds of MB is read in the worker: the page shows progress and
    keeps answering (each poll of the page answers within a second)."""
    wheel = big_wheel(tmp_path / "big-1.0-py3-none-any.whl", 320)
    page = browse(server, tmp_path / "shots", pick=[wheel], screenshot="big")
    [card] = page["cards"]
    assert card["state"] == "done" and card["record"] == "ok", card
    assert card["verdict"] == "pass"
    watch = page["watch"]
    assert watch["maxLatencyMs"] < 1000, watch
    phases = " ".join(watch["phases"])
    assert "reading…" in phases and "verifying RECORD…" in phases, watch
    assert page["pageErrors"] == [] and page["console"] == [], page


def test_inspector_progress_moves_within_one_large_member(server, tmp_path):
    """A wheel of one 256 MB member: the bar moves while that member is verified (it
    stayed at 0% until the member's end, seconds later)."""
    wheel = big_wheel(tmp_path / "big-1.0-py3-none-any.whl", 256, member_mb=256)
    page = browse(server, tmp_path / "shots", pick=[wheel], screenshot="one-member")
    [card] = page["cards"]
    assert card["state"] == "done" and card["record"] == "ok", card
    between = [p for p in page["watch"]["phases"]
               if p.startswith("verifying RECORD…") and p not in ("verifying RECORD… 0%", "verifying RECORD… 100%")]
    assert between, page["watch"]


# ---------------------------------------------------------------- the GitHub Action

@pytest.fixture(scope="module")
def action_dir(tmp_path_factory):
    """The Action as GitHub checks it out, with this build's dist/ (the committed one is
    tested separately: test_committed_action_dist_loads)."""
    d = tmp_path_factory.mktemp("action")
    shutil.copy(ROOT / "action" / "action.yml", d)
    shutil.copy(ROOT / "action" / "index.js", d)
    (d / "dist").mkdir()
    for f in ("truewheel_wasm.js", "truewheel_wasm_bg.wasm"):
        shutil.copy(PKG_NODE / f, d / "dist" / f)
    return d


# Runs a command, then writes its peak RSS (KiB) as the last line of stderr.
PEAK_RSS = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")


def run_action(action, workspace, tmp_path, summary=None, peak_rss=False, **inputs):
    """Runs the entry script as the runner does: INPUT_<NAME> upper-cased, spaces as `_`,
    hyphens kept; GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files; cwd = the workspace.
    `summary`: another path for the summary, made by the caller. `peak_rss`: the last
    line of stderr is the process's peak RSS in KiB."""
    output = tmp_path / "output.txt"
    if summary is None:
        summary = tmp_path / "summary.md"
        summary.write_text("")
    output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUT_")}
    env.update({"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(tmp_path)})
    # The defaults action.yml declares, which the runner passes when an input is not set.
    defaults = {"wheels": "dist/*.whl", "policy": "", "fail-on": "violation", "json-report": ""}
    for name, value in {**defaults, **inputs}.items():
        env[f"INPUT_{name.replace(' ', '_').upper()}"] = value
    cmd = [NODE, str(action / "index.js")]
    if peak_rss:
        cmd = [sys.executable, "-c", PEAK_RSS, *cmd]
    proc = subprocess.run(cmd, cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    assert "TypeError" not in proc.stderr and "at Object" not in proc.stderr, proc.stderr
    text = output.read_text()
    outputs = {m.group(1): m.group(3) for m in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.M | re.S)}
    return proc, summary.read_text() if summary.is_file() else None, outputs


def table_rows(summary):
    """The summary table's cells as they read (the Action escapes Markdown's and HTML's
    marks in them)."""
    return [[unescape(c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            for line in summary.splitlines() if line.startswith("| `")]


def unescape(cell):
    return re.sub(r"\\([\\`*_{}\[\]()<>#+!|~&.:@])", r"\1", cell)


def says_the_cli_error(cell, stderr):
    """Whether a summary's error cell is the CLI's `error:` sentence and its `hint:`, as
    `message (hint: hint)`. (The CLI's hint may go on to name a flag that raises a
    limit, which the Action has not.)"""
    lines = stderr.splitlines()
    message = lines[0].removeprefix("error: ")
    hint = lines[1].removeprefix("hint: ") if len(lines) > 1 and lines[1].startswith("hint: ") else None
    if hint is None:
        return cell == message
    head, sep, tail = cell.partition(" (hint: ")
    return head == message and sep != "" and tail.endswith(")") and hint.startswith(tail[:-1])


@pytest.fixture
def workspace(tmp_path, bad_tagged):
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    shutil.copy(SAMPLE_GOOD, ws / "dist")
    shutil.copy(bad_tagged, ws / "dist")
    return ws


@pytest.mark.parametrize("fail_on,code", [("violation", 1), ("never", 0), ("error", 0)])
def test_action_summary_outputs_and_exit(action_dir, workspace, tmp_path, bad_tagged, fail_on, code):
    report = tmp_path / "reports" / "audit.json"
    proc, summary, outputs = run_action(action_dir, workspace, tmp_path, **{"fail-on": fail_on, "json-report": str(report)})
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert outputs == {"verdict": "fail", "report": str(report)}
    assert "| wheel | tags | best policy | verdict | top reason |" in summary
    rows = {r[0].strip("`"): r for r in table_rows(summary)}
    assert rows[SAMPLE_GOOD.name] == [f"`{SAMPLE_GOOD.name}`", "cp311-cp311-linux_x86_64", "`manylinux_2_5_x86_64`",
                                      "✅ meets `linux_x86_64`", "—"]
    bad = rows[bad_tagged.name]
    assert bad[1:4] == ["cp311-cp311-manylinux_2_17_x86_64", "`manylinux_2_28_x86_64`", "❌ fails `manylinux_2_17_x86_64`"]
    top = bad[4]
    assert top.startswith("needs GLIBC_2.28 in tw_newglibc/") and top.endswith("→ not manylinux_2_27_x86_64 or stricter")
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith(f"::error file=dist/{bad_tagged.name},title=truewheel%3A not manylinux_2_17_x86_64::")
    data = json.loads(report.read_text())
    assert data["verdict"] == "fail"
    by_file = {w["file"]: w for w in data["wheels"]}
    cli, _ = cli_audit(bad_tagged)
    assert by_file[f"dist/{bad_tagged.name}"]["report"] == cli
    assert by_file[f"dist/{SAMPLE_GOOD.name}"]["pass"] is True


def test_action_warns_of_plain_linux_tags_and_keeps_its_verdict_without_a_summary(action_dir, workspace, tmp_path):
    """A wheel tagged plain `linux_*` meets its tag but PyPI refuses it: a warning, not a
    failure. A job summary that cannot be written loses the table, not the verdict."""
    proc, _, outputs = run_action(action_dir, workspace, tmp_path, summary=tmp_path, **{"fail-on": "never"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["verdict"] == "fail" and "report" in outputs, outputs
    warnings = [l for l in proc.stdout.splitlines() if l.startswith("::warning")]
    assert any(f"file=dist/{SAMPLE_GOOD.name}" in w and "which PyPI does not accept" in w
               and "qualifies for manylinux_2_5_x86_64" in w for w in warnings), warnings
    assert any("cannot write the job summary" in w for w in warnings), warnings


def test_action_policy_input(action_dir, workspace, tmp_path):
    proc, summary, outputs = run_action(action_dir, workspace, tmp_path, policy="manylinux_2_28_x86_64")
    assert proc.returncode == 0, proc.stdout
    assert outputs["verdict"] == "pass"
    assert all(r[3] == "✅ meets `manylinux_2_28_x86_64`" for r in table_rows(summary))
    assert Path(outputs["report"]).parent == tmp_path  # default: in $RUNNER_TEMP


def test_action_says_why_a_tag_of_another_family_or_architecture_fails(action_dir, tmp_path):
    """A wheel whose files link glibc, tagged musllinux too, fails for that reason, and
    one judged against another architecture's policy for that one: the Action's top
    reason and annotation say it, and its text report is the CLI's, line for line."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    tag = "py3-none-manylinux_2_17_x86_64.musllinux_1_1_x86_64"
    wheel = make_wheel(ws / "dist" / f"demo-1.0-{tag}.whl",
                       {"demo/libglibc_2_17.so": (LOCAL / "elf" / "libglibc_2_17.so").read_bytes()}, tag=tag)
    why = "musllinux_1_1_x86_64: the wheel's files link glibc, so no musllinux policy applies"
    proc, summary, _ = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert table_rows(summary)[0][4] == why
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 1 and errors[0].endswith(f"(best policy: manylinux_2_17_x86_64): {why}"), errors
    cli = run("audit", wheel, check=1).stdout
    assert cli in proc.stdout, (cli, proc.stdout)

    plat = "manylinux_2_17_aarch64"
    proc, summary, _ = run_action(action_dir, ws, tmp_path, policy=plat)
    assert proc.returncode == 1, proc.stdout
    assert table_rows(summary)[0][4] == f"{plat}: the wheel's files are built for x86_64, not aarch64"
    cli = run("audit", "--plat", plat, wheel, check=1).stdout
    assert cli in proc.stdout, (cli, proc.stdout)



def test_action_puts_the_cause_first_where_another_evaluation_judged_the_tag(action_dir, tmp_path):
    """A musllinux_1_1 wheel is judged by every musllinux policy (auditwheel, here,
    evaluates musllinux_1_2 only), whose note says the verdict: the Action's text report
    is the CLI's (it added a `fails` line above the note), and its top reason and
    annotation are the cause, a library the policy does not allow (they were the note)."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    tag = "cp311-cp311-musllinux_1_1_x86_64"
    wheel = make_wheel(ws / "dist" / f"demo-1.0-{tag}.whl",
                       {"demo/_m.cpython-311-x86_64-linux-musl.so": musl_library(tmp_path)}, tag=tag)
    proc, summary, _ = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 1, proc.stdout
    cli = run("audit", "--wheel-only", wheel, check=1).stdout
    assert "judged by every musllinux policy" in cli.splitlines()[1], cli
    assert cli in proc.stdout, (cli, proc.stdout)
    cause = cli.splitlines()[2].strip()
    assert cause.startswith("needs libc.so, which the policy does not allow"), cli
    assert table_rows(summary)[0][4] == cause
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 1 and errors[0].endswith(cause), errors


def fails_as_the_cli(action_dir, ws, tmp_path, wheel, best, annotated):
    """Runs the Action on `ws`, whose one wheel fails its tags: its text report is the
    CLI's, the summary's best policy `best` and reason the CLI's, and one annotation
    gives `(best policy: annotated)`."""
    proc, summary, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 1 and outputs["verdict"] == "fail", proc.stdout
    cli = run("audit", wheel, check=1).stdout
    assert cli in proc.stdout, (cli, proc.stdout)
    row = table_rows(summary)[0]
    assert row[2] == best and row[4] == cli.splitlines()[2].strip(), row
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 1 and f"(best policy: {annotated})" in errors[0], errors


def test_action_fails_a_build_for_another_system_tagged_for_linux(action_dir, tmp_path):
    """A macOS extension in a wheel tagged manylinux (no ELF file): the Action fails it as
    the CLI does, its text report the CLI's line for line, and the annotation and summary
    say why (it was "pure" and passed)."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    macho = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01" + bytes(0x100)
    wheel = make_wheel(ws / "dist" / f"demo-1.0-{tag}.whl", {"demo/_core.cpython-311-darwin.so": macho}, tag=tag)
    fails_as_the_cli(action_dir, ws, tmp_path, wheel, "none: no ELF files", "none: it holds no ELF file")
    # Tagged for macOS, it is not judged by its own tags, and a Linux `policy` fails it
    # with the reason (the summary's reason was "—").
    ws2 = tmp_path / "ws2"
    (ws2 / "dist").mkdir(parents=True)
    mac = "cp311-cp311-macosx_11_0_arm64"
    make_wheel(ws2 / "dist" / f"demo-1.0-{mac}.whl", {"demo/_core.cpython-311-darwin.so": macho}, tag=mac)
    proc, summary, _ = run_action(action_dir, ws2, tmp_path)
    assert proc.returncode == 0 and table_rows(summary)[0][3] == "➖ not judged: no Linux policy applies", summary
    proc, summary, _ = run_action(action_dir, ws2, tmp_path, policy="manylinux_2_17_x86_64")
    assert proc.returncode == 1
    assert table_rows(summary)[0][4] == (
        "manylinux_2_17_x86_64: the wheel holds no ELF file, and its tags name another system (macosx_11_0_arm64)")


def test_action_fails_a_pure_wheel_tagged_with_no_policy(action_dir, tmp_path):
    """A wheel with no ELF file tagged `manylinux_2_3_x86_64`, a tag pip installs nowhere:
    the Action fails it as the CLI does, with the CLI's text, and says why in the
    annotation and the summary (it passed as "pure")."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    tag = "py3-none-manylinux_2_3_x86_64"
    wheel = make_wheel(ws / "dist" / f"demo-1.0-{tag}.whl", {"demo/__init__.py": b""}, tag=tag)
    fails_as_the_cli(action_dir, ws, tmp_path, wheel, "pure", "pure, no ELF files")
    # A real policy's tag passes, as before.
    ok = ws / "dist" / wheel.name.replace("manylinux_2_3_", "manylinux_2_5_")
    wheel.unlink()
    make_wheel(ok, {"demo/__init__.py": b""}, tag=tag.replace("2_3", "2_5"))
    proc, summary, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 0 and outputs["verdict"] == "pass", proc.stdout
    assert f"{ok.name}: pure (no ELF files; meets every policy)" in proc.stdout


def test_action_unreadable_wheels(action_dir, tmp_path, bad_wheels):
    ws = tmp_path / "ws"
    shutil.copytree(bad_wheels[0].parent, ws / "dist")
    proc, summary, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert outputs["verdict"] == "error"
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == len(bad_wheels)
    for w in bad_wheels:
        cli = run("audit", w, check=2)
        message = cli.stderr.splitlines()[0].removeprefix("error: ")
        row = next(r for r in table_rows(summary) if r[0] == f"`{w.name}`")
        assert row[3] == "⚠️ error" and says_the_cli_error(row[4], cli.stderr), (row, cli.stderr)
        assert any(message.replace(":", "%3A") in e or message in e for e in errors)
    proc, _, outputs = run_action(action_dir, ws, tmp_path, **{"fail-on": "never"})
    assert proc.returncode == 0 and outputs["verdict"] == "error"


def test_action_refuses_a_large_file_that_is_no_zip_from_its_ends(action_dir, tmp_path):
    """A `.whl` of 400 MB that is no zip archive (a saved error page, a broken download)
    is refused with the CLI's sentence from its first and last bytes: it was read whole
    into the module's memory first (a peak of over 400 MB)."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    junk = ws / "dist" / "demo-1.0-py3-none-any.whl"
    with open(junk, "wb") as f:
        f.write(b"<html>not found</html>\n")
        f.truncate(400 << 20)
    proc, summary, outputs = run_action(action_dir, ws, tmp_path, peak_rss=True)
    assert proc.returncode == 2 and outputs["verdict"] == "error", proc.stdout
    cli = run("audit", junk, check=2)
    assert "it is not a zip archive" in cli.stderr, cli.stderr
    row = table_rows(summary)[0]
    assert says_the_cli_error(row[4], cli.stderr), (row, cli.stderr)
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    assert peak_kib < 200 << 10, f"peak RSS {peak_kib >> 10} MiB to refuse a file that is no zip"


def test_action_annotates_unreadable_wheels_before_violations(action_dir, tmp_path, bad_tagged, bad_wheels):
    """GitHub shows a step's first 10 error annotations: an unreadable wheel, which makes
    the verdict `error`, is annotated before a dozen violations, not hidden behind them."""
    ws = tmp_path / "ws"
    for i in range(12):
        (ws / "dist" / f"job{i}").mkdir(parents=True)
        shutil.copy(bad_tagged, ws / "dist" / f"job{i}")
    (ws / "dist" / "z").mkdir()
    shutil.copy(bad_wheels[0], ws / "dist" / "z")
    proc, _, outputs = run_action(action_dir, ws, tmp_path, wheels="dist")
    assert outputs["verdict"] == "error", proc.stdout
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 13
    assert "unreadable wheel" in errors[0] and all("unreadable" not in e for e in errors[1:]), errors


def test_action_refuses_a_damaged_or_changed_wheel(action_dir, tmp_path):
    """A release must not publish a wheel changed after its build, or one whose member
    cannot be inflated: the Action checks every member against RECORD first and says
    the CLI's sentence (it passed both: the audit reads ELF files only)."""
    ws = tmp_path / "ws"
    (ws / "dist" / "a").mkdir(parents=True)
    (ws / "dist" / "b").mkdir(parents=True)
    src = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/_mod.py": b"x = 1\n" * 100})
    members = {i.filename: zipfile.ZipFile(src).read(i) for i in zipfile.ZipFile(src).infolist()}
    members["demo/_mod.py"] = b"x = 2\n" * 100
    changed = ws / "dist" / "a" / src.name
    with zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    # A deflate stream damaged in place (its CRC and sizes left as they were).
    data = bytearray(src.read_bytes())
    at = data.index(b"demo/_mod.py") + len("demo/_mod.py")
    data[at + 2:at + 8] = b"\xff" * 6
    damaged = ws / "dist" / "b" / src.name
    damaged.write_bytes(bytes(data))
    proc, summary, outputs = run_action(action_dir, ws, tmp_path, wheels="dist")
    assert proc.returncode == 2 and outputs["verdict"] == "error", proc.stdout
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 2, errors
    for wheel in (changed, damaged):
        cli = run("retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "out", wheel, check=2)
        row = next(r for r in table_rows(summary) if r[0] == f"`{wheel.relative_to(ws)}`")
        assert row[3] == "⚠️ error" and says_the_cli_error(row[4], cli.stderr), (row, cli.stderr)
    assert "RECORD hash mismatch for demo/_mod.py" in proc.stdout

    # A RECORD that leaves a member out, or gives it no hash, is refused too, as inspect,
    # retag and repair refuse it: the CLI's sentence, every problem counted.
    loose = tmp_path / "ws2" / "dist" / src.name
    loose.parent.mkdir(parents=True)
    members = {i.filename: zipfile.ZipFile(src).read(i) for i in zipfile.ZipFile(src).infolist()}
    members["demo/extra.txt"] = b"unlisted\n"
    record = "demo-1.0.dist-info/RECORD"
    members[record] = b"".join(l.split(b",")[0] + b",,\n" if l.startswith(b"demo/_mod.py") else l + b"\n"
                               for l in members[record].splitlines())
    with zipfile.ZipFile(loose, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    proc, summary, outputs = run_action(action_dir, tmp_path / "ws2", tmp_path)
    assert proc.returncode == 2 and outputs["verdict"] == "error", proc.stdout
    cli = run("retag", "--platform-tag", "linux_x86_64", "-w", tmp_path / "out2", loose, check=2)
    message = cli.stderr.splitlines()[0].removeprefix("error: ")
    assert message.endswith("(and 1 more problem)") and says_the_cli_error(table_rows(summary)[0][4], cli.stderr), (
        cli.stderr, summary)


def test_action_says_record_problems_before_a_damaged_library(action_dir, tmp_path):
    """The Action checks RECORD and scans the libraries in one inflation of each member;
    its answers keep the order of the two steps: a library the scanner cannot read is the
    audit's error (the CLI's `audit` sentence), unless a member was changed after the
    build, which is said first (the CLI's `retag` sentence)."""
    broken = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\0\x3e\0" + b"\xff" * 40
    ws = tmp_path / "ws"
    (ws / "dist" / "a").mkdir(parents=True)
    (ws / "dist" / "b").mkdir(parents=True)
    tag = "cp311-cp311-linux_x86_64"
    only = make_wheel(ws / "dist" / "a" / f"demo-1.0-{tag}.whl", {"demo/_x.so": broken, "demo/_mod.py": b"x = 1\n"},
                      tag=tag)
    src = make_wheel(tmp_path / f"demo-1.0-{tag}.whl", {"demo/_x.so": broken, "demo/_mod.py": b"x = 1\n"}, tag=tag)
    members = {i.filename: zipfile.ZipFile(src).read(i) for i in zipfile.ZipFile(src).infolist()}
    members["demo/_mod.py"] = b"x = 2\n"
    both = ws / "dist" / "b" / src.name
    with zipfile.ZipFile(both, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    proc, summary, _ = run_action(action_dir, ws, tmp_path, wheels="dist")
    assert proc.returncode == 2, proc.stdout
    rows = {r[0]: r for r in table_rows(summary)}
    cli = run("audit", only, check=2)
    assert "is malformed" in cli.stderr, cli.stderr
    assert says_the_cli_error(rows[f"`{only.relative_to(ws)}`"][4], cli.stderr), (rows, cli.stderr)
    cli = run("retag", "--platform-tag", "linux_aarch64", "-w", tmp_path / "out", both, check=2)
    assert "RECORD hash mismatch for demo/_mod.py" in cli.stderr, cli.stderr
    assert says_the_cli_error(rows[f"`{both.relative_to(ws)}`"][4], cli.stderr), (rows, cli.stderr)


def test_action_titles_a_wheel_auditwheels_rules_refuse(action_dir, tmp_path):
    """A shared library under `.data/purelib/`: readable, but auditwheel's rules cannot
    evaluate it. The Action's error says the CLI's sentence under "cannot be audited"
    (it was titled "unreadable wheel", the kind lost on the way)."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    wheel = make_wheel(ws / "dist" / f"demo-1.0-{tag}.whl",
                       {"demo-1.0.data/purelib/demo/_x.so": (LOCAL / "elf" / "libglibc_2_17.so").read_bytes()}, tag=tag)
    proc, _, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 2 and outputs["verdict"] == "error", proc.stdout
    cli = run("audit", wheel, check=2).stderr.splitlines()[0].removeprefix("error: ")
    [error] = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert "title=truewheel%3A cannot be audited::" in error and "purelib" in cli, (error, cli)


def test_action_no_wheel_matched(action_dir, tmp_path):
    ws = tmp_path / "empty"
    ws.mkdir()
    proc, _, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=truewheel audit::no wheel matches dist/*.whl")
    assert outputs == {"verdict": "error"}
    proc, _, _ = run_action(action_dir, ws, tmp_path, **{"fail-on": "never"})
    assert proc.returncode == 0 and proc.stdout.startswith("::warning ")
    proc, _, _ = run_action(action_dir, ws, tmp_path, **{"fail-on": "sometimes"})
    assert proc.returncode == 2 and "fail-on is `sometimes`" in proc.stdout


def test_action_globs(action_dir, tmp_path):
    ws = tmp_path / "g"
    for rel in ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl", "dist/sub/c-1.0-py3-none-any.whl",
                "dist/.hidden-1.0-py3-none-any.whl", "wheelhouse/d-1.0-py3-none-any.whl", "dist/notes.txt"]:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("")
    script = ("const {matchWheels} = require(process.argv[1]);"
              "console.log(JSON.stringify(matchWheels(process.argv[2], process.cwd())"
              ".map(f => require('path').relative(process.cwd(), f))))")

    def match(patterns):
        proc = subprocess.run([NODE, "-e", script, str(action_dir / "index.js"), patterns], cwd=ws,
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)

    assert match("dist/*.whl") == ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl"]
    assert match("**/*.whl") == ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl",
                                 "dist/sub/c-1.0-py3-none-any.whl", "wheelhouse/d-1.0-py3-none-any.whl"]
    assert match("dist/{a,b}-*.whl\n!dist/b*") == ["dist/a-1.0-py3-none-any.whl"]
    assert match("./dist/[ab]-?.0-*.whl") == ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl"]
    assert match("dist/.*.whl") == ["dist/.hidden-1.0-py3-none-any.whl"]
    assert match(str(ws / "wheelhouse" / "*.whl")) == ["wheelhouse/d-1.0-py3-none-any.whl"]
    assert match("nothing/*.whl") == []
    # A pattern that names a folder takes every file under it, as @actions/glob does
    # (the files that are not wheels are left out later, said once).
    under = ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl", "dist/notes.txt",
             "dist/sub/c-1.0-py3-none-any.whl"]
    for folder in ("dist", "dist/", "dist/**", "./dist"):
        assert match(folder) == under, folder
    # `**` follows a link to a folder, as @actions/glob does, and a link back up once.
    (ws / "linked").symlink_to(ws / "wheelhouse")
    (ws / "wheelhouse" / "up").symlink_to(ws)
    assert "linked/d-1.0-py3-none-any.whl" in match("**/*.whl")
    (ws / "linked").unlink()
    (ws / "wheelhouse" / "up").unlink()
    # Alternatives may hold `/`, and nest.
    assert match("{dist,wheelhouse}/*.whl") == ["dist/a-1.0-py3-none-any.whl", "dist/b-1.0-py3-none-any.whl",
                                                "wheelhouse/d-1.0-py3-none-any.whl"]
    assert match("{dist/sub,wheel{house,barrow}}/*.whl") == ["dist/sub/c-1.0-py3-none-any.whl",
                                                            "wheelhouse/d-1.0-py3-none-any.whl"]


def test_action_input_mistakes_are_said_once(action_dir, workspace, tmp_path):
    """A glob that is not one, or a policy that is not a tag, is one error for the step,
    with verdict `error`: not a JavaScript error, nor one unreadable wheel per wheel."""
    proc, _, outputs = run_action(action_dir, workspace, tmp_path, wheels="dist/[z-a]*.whl")
    assert proc.returncode == 2 and outputs == {"verdict": "error"}, proc.stdout + proc.stderr
    errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
    assert len(errors) == 1 and "the wheels pattern `dist/[z-a]*.whl` is not a valid glob" in errors[0], errors
    # A tag that is no policy, or of no known architecture, is a mistake too: every
    # wheel would fail it (and every pure one meet it).
    for policy in ("Manylinux_2_17_x86_64", "manylinux_2_17_amd64", "musllinux_2_17_x86_64", "macosx_11_0_arm64"):
        proc, _, outputs = run_action(action_dir, workspace, tmp_path, policy=policy)
        assert proc.returncode == 2 and outputs == {"verdict": "error"}, proc.stdout + proc.stderr
        errors = [l for l in proc.stdout.splitlines() if l.startswith("::error")]
        assert len(errors) == 1 and f"the policy input: `{policy}` is not a valid policy" in errors[0], errors
        assert "unreadable wheel" not in proc.stdout
        cli = run("audit", "--plat", policy, SAMPLE_GOOD, check=2)
        assert f"`{policy}` is not a valid policy" in cli.stderr


def test_action_leaves_out_sdists_and_keeps_names_on_one_line(action_dir, tmp_path):
    """`dist/*` takes the sdist beside the wheels: it is left out, said once, and does
    not make the step an error. A line break in a wheel's file name stays in its line of
    the log, where a line of its own starting `::` would be a workflow command."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    shutil.copy(SAMPLE_GOOD, ws / "dist")
    (ws / "dist" / "tw_cext-0.1.0.tar.gz").write_bytes(b"not a wheel")
    proc, summary, outputs = run_action(action_dir, ws, tmp_path, wheels="dist/*")
    assert proc.returncode == 0 and outputs["verdict"] == "pass", proc.stdout
    assert "left out 1 file that is not a wheel: dist/tw_cext-0.1.0.tar.gz" in proc.stdout
    assert len(table_rows(summary)) == 1
    (ws / "dist" / "x\n::warning title=injected::hi-1.0-py3-none-any.whl").write_bytes(b"")
    proc, _, _ = run_action(action_dir, ws, tmp_path, wheels="dist/*.whl")
    assert proc.returncode == 2, proc.stdout
    assert not [l for l in proc.stdout.splitlines() if l.startswith("::warning title=injected")], proc.stdout


def test_action_summary_escapes_what_wheels_say(action_dir, tmp_path):
    """Names and messages come from the wheels: in the job summary they are text, never a
    link, an image or a tag (GitHub keeps <a>, <img> and [](...) in summaries). A folder
    named like a wheel is refused by name, as the CLI refuses it."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    # A file name the error message repeats.
    src = ws / "dist" / "x[a](evil.example)<img src=evil.example>`|`.whl"
    src.write_bytes(b"not a zip")
    (ws / "dist" / "folder-1.0-py3-none-any.whl").mkdir()
    proc, summary, outputs = run_action(action_dir, ws, tmp_path)
    assert proc.returncode == 2 and outputs["verdict"] == "error", proc.stdout
    # Outside code spans (where nothing is read as Markdown or HTML), every mark is escaped.
    text = re.sub(r"(?<![`\\])(`+)(?!`).*?(?<!`)\1(?!`)", "", summary)
    assert re.search(r"(?<!\\)<img", text) is None and re.search(r"(?<!\\)\]\(", text) is None, text
    assert "<img" in summary
    rows = {r[0].strip("` "): r for r in table_rows(summary)}
    cli = run("audit", src, check=2).stderr
    assert src.name in cli and says_the_cli_error(rows[src.name][4], cli), (rows, cli)
    assert "it is a directory, not a regular file" in rows["folder-1.0-py3-none-any.whl"][4]  # as the CLI says


def test_action_on_a_release_jobs_layouts(action_dir, tmp_path):
    """Two artifacts of a matrix holding one wheel name are told apart by their paths;
    a workspace reached through a link keeps `file=` for wheels named through it; the
    report is never written over a wheel; a name that GitHub would autolink
    (`www.x.example`) stays text in the summary."""
    real = tmp_path / "real"
    for art in ("linux-a", "linux-b"):
        (real / "dist" / art).mkdir(parents=True)
        shutil.copy(SAMPLE_GOOD, real / "dist" / art)
    ws = tmp_path / "ws"
    ws.symlink_to(real)
    proc, summary, outputs = run_action(action_dir, ws, tmp_path, wheels=f"{ws}/dist/**/*.whl")
    assert proc.returncode == 0 and outputs["verdict"] == "pass", proc.stdout
    assert sorted(r[0] for r in table_rows(summary)) == [f"`dist/linux-a/{SAMPLE_GOOD.name}`",
                                                          f"`dist/linux-b/{SAMPLE_GOOD.name}`"]
    # (The plain linux tag's warning is an annotation with a file.)
    assert f"::warning file=dist/linux-a/{SAMPLE_GOOD.name}," in proc.stdout, proc.stdout

    target = real / "dist" / "linux-a" / SAMPLE_GOOD.name
    before = target.read_bytes()
    proc, _, outputs = run_action(action_dir, ws, tmp_path, wheels="dist/**/*.whl",
                                  **{"json-report": f"dist/linux-a/{SAMPLE_GOOD.name}"})
    assert proc.returncode == 2 and outputs == {"verdict": "error"}, proc.stdout
    assert "one of the wheels to audit" in proc.stdout and target.read_bytes() == before

    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "dist").mkdir()
    (tmp_path / "w" / "dist" / "www.evil.example-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    proc, summary, _ = run_action(action_dir, tmp_path / "w", tmp_path)
    text = re.sub(r"(?<![`\\])(`+)(?!`).*?(?<!`)\1(?!`)", "", summary)
    assert "www.evil" not in text and "www\\.evil\\.example" in text, text


def test_action_audits_on_every_core_in_the_files_order(action_dir, tmp_path, bad_wheels):
    """The wheels are audited on worker threads, one module each (this machine has 2
    cores): the log, the JSON report and the summary keep the matched files' order,
    every report is the CLI's, and an unreadable wheel among them is said as alone."""
    ws = tmp_path / "ws"
    (ws / "dist").mkdir(parents=True)
    wheels = [w for w in all_wheels() if Path(w).stat().st_size < 20 << 20][:12] + bad_wheels[:2]
    for w in wheels:
        shutil.copy(w, ws / "dist" / Path(w).name)
    names = sorted(Path(w).name for w in wheels)
    proc, summary, outputs = run_action(action_dir, ws, tmp_path)
    report = json.loads(Path(outputs["report"]).read_text())
    assert [Path(r["file"]).name for r in report["wheels"]] == names
    assert [r[0].strip("`") for r in table_rows(summary)] == names
    for r in report["wheels"]:
        w = ws / r["file"]
        cli = run("audit", "--json", "--wheel-only", w, check=None)
        if "error" in r:
            assert cli.returncode == 2 and says_the_cli_error(r["error"]["message"] + (
                f" (hint: {r['error']['hint']})" if r["error"]["hint"] else ""), cli.stderr), (r, cli.stderr)
        else:
            assert r["report"] == json.loads(cli.stdout), w.name
    # (An error's line may start with the core's sentence rather than the name.)
    order = [names.index(l.split(":")[0]) for l in proc.stdout.splitlines() if l.split(":")[0] in names]
    assert order == sorted(order) and len(order) >= len(names) - 2, proc.stdout


def test_committed_action_dist_gives_this_trees_answers(wasm_audits):
    """What GitHub runs is the committed action/dist, not the fresh build the other tests
    use: it must load under this Node, be a build of this version, and give this tree's
    reports and errors on every corpus wheel (a stale dist failed published musllinux
    wheels and passed damaged ones). After a change to the core's answers, refresh it
    with `wasm/build --action`."""
    dist = ROOT / "action" / "dist"
    proc = subprocess.run([NODE, "-e", "console.log(require(process.argv[1]).version())", str(dist / "truewheel_wasm.js")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    version = re.search(r'^version = "(.*)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    assert proc.stdout.strip() == version
    assert (dist / "truewheel_wasm_bg.wasm").stat().st_size < 1_000_000
    committed = {Path(r["file"]).name: r for r in node_run("audit", *all_wheels(), pkg=dist)}
    stale = sorted(name for name, r in committed.items() if r != wasm_audits[name])
    assert not stale, f"action/dist answers differently on {stale}: run wasm/build --action"


def test_module_size_budget():
    """The inspector downloads this module: under 1 MB, and 400 KB gzipped."""
    data = (WASM_OUT / "pkg-web" / "truewheel_wasm_bg.wasm").read_bytes()
    assert len(data) < 1_000_000, len(data)
    assert len(gzip.compress(data, 9)) < 400_000
    # The page serves only what wasm/build put next to it.
    served = sorted(p.relative_to(WASM_OUT / "www").as_posix() for p in (WASM_OUT / "www").rglob("*") if p.is_file())
    assert served == ["app.js", "index.html", "pkg/truewheel_wasm.js", "pkg/truewheel_wasm_bg.wasm",
                      "render.js", "style.css", "worker.js"]
