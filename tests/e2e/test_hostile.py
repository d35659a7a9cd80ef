"""The hostile corpus (wheels-corpus/make-hostile) through `inspect`, `audit`, `repair` and
`retag`, through the caps on sizes and ratios, against Python's zipfile, and through the
WASM build under Node.

For every case and command: exit status 2 with one `error:` sentence (then only `hint:`
lines) naming the wheel and, where there is one, the member — or exit 0 where the corpus
says the wheel is fine; never a panic or a hang (each call has a time limit); nothing left
in the output directory; the input's bytes unchanged. Where truewheel accepts a wheel,
zipfile (what pip reads wheels with) must read the same members with the same bytes.

Each test runs every case and reports every case that failed, so one run shows them all.
"""

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, ROOT

MAKE_HOSTILE = ROOT / "wheels-corpus" / "make-hostile"
WASM_OUT = Path(os.environ.get("TRUEWHEEL_WASM_OUT", ROOT / "target" / "wasm-out"))
PKG_NODE = WASM_OUT / "pkg-node"
RUNNER = ROOT / "tests" / "wasm" / "run.cjs"
TIMEOUT = 60
COMMANDS = {
    "inspect": lambda out: ["inspect"],
    "audit": lambda out: ["audit"],
    "repair": lambda out: ["repair", "-w", out],
    "retag": lambda out: ["retag", "--platform-tag", "linux_x86_64", "-w", out],
}


class Corpus:
    def __init__(self, root: Path):
        self.root = root
        self.cases = json.loads((root / "index.json").read_text())["cases"]
        self.digests = {c["file"]: sha256(root / c["file"]) for c in self.cases}

    def path(self, case) -> Path:
        return self.root / case["file"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    proc = subprocess.run([sys.executable, str(MAKE_HOSTILE), str(root)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    c = Corpus(root)
    assert len(c.cases) >= 60, f"expected the whole corpus, found {len(c.cases)} cases"
    return c


def truewheel(*args, timeout=TIMEOUT):
    """Runs truewheel; a hang is a failure (TimeoutExpired), not a stuck test."""
    try:
        return subprocess.run([str(BIN), *map(str, args)], capture_output=True, timeout=timeout,
                              text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, "timeout", "", f"timed out after {timeout} s")


RUST_ESCAPES = {"\\": "\\\\", '"': '\\"', "\0": "\\0", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(member: str):
    """How a member name may appear in a sentence: as is, or escaped as Rust's `{:?}`
    writes it inside quotes (`\\n`, `\\0`, `\\u{1b}`, backslashes doubled)."""
    escaped = "".join(RUST_ESCAPES.get(ch) or (f"\\u{{{ord(ch):x}}}" if ord(ch) < 32 or ord(ch) == 127 else ch)
                      for ch in member)
    return (member, escaped)


def stderr_problems(proc, case, expect):
    """What is wrong with a refusal's exit status and stderr, as a list of phrases."""
    problems = []
    err = proc.stderr
    for bad in ("panicked", "RUST_BACKTRACE", "thread '", "stack backtrace", "timed out"):
        if bad in err:
            problems.append(f"stderr has {bad!r}")
    if proc.returncode != 2:
        problems.append(f"exit {proc.returncode}, expected 2")
    lines = err.rstrip("\n").split("\n")
    if not lines[0].startswith("error: "):
        problems.append("stderr does not start with `error: `")
    if any(not line.startswith("hint: ") for line in lines[1:]):
        problems.append("stderr has more than one `error:` line and `hint:` lines")
    first = lines[0]
    if expect not in first:
        problems.append(f"the error does not say {expect!r}")
    if case["file"] not in first:
        problems.append("the error does not name the wheel")
    if case["member"] and not any(m in first for m in shown(case["member"])):
        problems.append(f"the error does not name the member {case['member']!r}")
    return problems


def check(failures, case, what, problems, proc=None):
    if problems:
        detail = f"\n    stderr: {proc.stderr.strip()!r}" if proc is not None else ""
        failures.append(f"{case['case']} [{what}]: {'; '.join(problems)}{detail}")


def report(failures):
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)


# ---------------------------------------------------------------- the CLI


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_case(corpus, command, tmp_path):
    failures = []
    for case in corpus.cases:
        out = tmp_path / case["case"]
        proc = truewheel(*COMMANDS[command](out), corpus.path(case))
        expect = case["expect"][command]
        if expect is None:
            problems = []
            if proc.returncode != 0:
                problems.append(f"exit {proc.returncode}, expected 0 (the corpus says it is fine)")
            if "panicked" in proc.stderr or "error:" in proc.stderr:
                problems.append("stderr has an error")
            if command in ("repair", "retag") and proc.returncode == 0 and not list(out.glob("*.whl")):
                problems.append("no wheel was written")
            if command == "audit" and any(not line.startswith((case["file"], "  "))
                                          for line in proc.stdout.splitlines()):
                problems.append(f"a line of the report is not the verdict or a finding: {proc.stdout!r}")
        else:
            problems = stderr_problems(proc, case, expect)
            if out.exists() and list(out.iterdir()):
                problems.append(f"files left in the output directory: {sorted(p.name for p in out.iterdir())}")
        if sha256(corpus.path(case)) != corpus.digests[case["file"]]:
            problems.append("the input wheel was modified")
        check(failures, case, command, problems, proc)
    report(failures)


def test_caps(corpus):
    """The global caps refuse with the limit named and a hint at the flag that raises it;
    raised past a wheel, they let it through."""
    failures = []
    ran = 0
    for case in corpus.cases:
        for cap in case.get("caps", []):
            for command in cap.get("commands", ["inspect", "audit"]):
                ran += 1
                proc = truewheel(*cap["args"], command, corpus.path(case))
                what = f"{command} {' '.join(cap['args'])}"
                if cap["expect"] is None:
                    problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}, expected 0"]
                else:
                    problems = stderr_problems(proc, {**case, "member": None}, cap["expect"])
                    if cap["expect"] and "limit" in cap["expect"] and "hint: " not in proc.stderr:
                        problems.append("no hint at the flag that raises the limit")
                check(failures, case, what, problems, proc)
    assert ran >= 5
    report(failures)


def peak_rss(args) -> tuple[int, subprocess.CompletedProcess]:
    """Runs truewheel in a fresh Python whose only child it is; returns its peak RSS in
    bytes (ru_maxrss of the children) and the finished process."""
    code = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=%d)\n"
        "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, p.stderr]))\n"
    ) % TIMEOUT
    res = subprocess.run([sys.executable, "-c", code, str(BIN), *map(str, args)], capture_output=True,
                         text=True, timeout=TIMEOUT + 10, check=True)
    kib, rc, err = json.loads(res.stdout)
    return kib * 1024, subprocess.CompletedProcess(args, rc, "", err)


def test_zip_bomb_memory_is_bounded(corpus):
    """Let through by its caps, the 100 MiB bomb is inflated (and hashed against RECORD)
    as a stream: peak memory stays far below what it declares."""
    [case] = [c for c in corpus.cases if c["case"] == "zip_bomb"]
    [cap] = [c for c in case["caps"] if c.get("rss_under")]
    rss, proc = peak_rss([*cap["args"], "inspect", corpus.path(case)])
    assert proc.returncode == 0, proc.stderr
    assert rss < cap["rss_under"], f"peak RSS {rss >> 20} MiB for a member of 100 MiB"
    # Refused by the default ratio, it costs next to nothing.
    rss, proc = peak_rss(["audit", corpus.path(case)])
    assert proc.returncode == 2 and "zip bomb" in proc.stderr
    assert rss < 32 << 20, f"peak RSS {rss >> 20} MiB to refuse a zip bomb"


# ---------------------------------------------------------------- zipfile, what pip reads


def record_hashes(record: bytes) -> dict:
    out = {}
    for row in csv.reader(io.StringIO(record.decode())):
        if row and row[1]:
            algo, _, digest = row[1].partition("=")
            out[row[0]] = (algo, digest)
    return out


def zipfile_members(path: Path):
    """Every member's name and bytes as zipfile reads them, or the exception it raises."""
    try:
        with zipfile.ZipFile(path) as z:
            return [(i.filename, z.read(i)) for i in z.infolist()], None
    except Exception as e:  # zipfile raises BadZipFile, NotImplementedError, RuntimeError, …
        return None, e


def test_zipfile_reads_what_truewheel_accepts(corpus, tmp_path):
    """Where truewheel accepts a wheel, zipfile reads the same member names, sizes and
    bytes (the bytes: each hashes to RECORD as zipfile reads it, which truewheel verified,
    and `retag`'s raw copies read back equal). Where zipfile would differ, truewheel
    must have refused."""
    failures = []
    accepted = 0
    for case in corpus.cases:
        path = corpus.path(case)
        proc = truewheel("inspect", "--json", path)
        if proc.returncode != 0:
            continue
        accepted += 1
        problems = []
        members, error = zipfile_members(path)
        if members is None:
            check(failures, case, "zipfile", [f"truewheel accepts it, zipfile raises {error!r}"])
            continue
        report_ = json.loads(proc.stdout)
        if [m["path"] for m in report_["members"]] != [n for n, _ in members]:
            problems.append("zipfile lists other members")
        if [m["size"] for m in report_["members"]] != [len(d) for _, d in members]:
            problems.append("zipfile reads other sizes")
        if not report_["record"]["ok"]:
            problems.append("truewheel's RECORD verification failed but it exited 0")
        data = dict(members)
        hashes = record_hashes(data[f"{report_['dist_info']}/RECORD"])
        for name, content in members:
            if name in hashes:
                algo, digest = hashes[name]
                mine = base64.urlsafe_b64encode(hashlib.new(algo, content).digest()).rstrip(b"=").decode()
                if mine != digest:
                    problems.append(f"zipfile's {name} does not match RECORD")
        out = tmp_path / case["case"]
        rt = truewheel("retag", "--build", "7", "-w", out, path)
        if rt.returncode != 0:
            problems.append(f"retag failed: {rt.stderr.strip()}")
        else:
            [new] = out.iterdir()
            copied, error = zipfile_members(new)
            if copied is None:
                problems.append(f"zipfile cannot read retag's output: {error!r}")
            else:
                for name, content in copied:
                    if not name.endswith(("/RECORD", "/WHEEL")) and data.get(name) != content:
                        problems.append(f"retag's copy of {name} reads differently")
        check(failures, case, "zipfile", problems)
    assert accepted >= 4, "the controls should be accepted"
    report(failures)


def test_index_describes_zipfile(corpus):
    """The corpus's own record of what zipfile makes of each case is current."""
    wrong = [c["case"] for c in corpus.cases
             if (zipfile_members(corpus.path(c))[0] is not None) != (c["zipfile"] == "reads")]
    assert not wrong, wrong


# ---------------------------------------------------------------- WASM under Node


def node_results(command, corpus):
    node = shutil.which("node")
    if node is None or not (PKG_NODE / "truewheel_wasm.js").exists():
        pytest.fail(f"needs node and {PKG_NODE} (wasm/build); scripts/check makes both")
    env = {**os.environ, "TRUEWHEEL_AUDIT_OPTIONS": ""}
    proc = subprocess.run([node, str(RUNNER), str(PKG_NODE), command, *[corpus.path(c) for c in corpus.cases]],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"node crashed: {proc.stderr[-2000:]}"
    results = {Path(r["file"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(results) == len(corpus.cases), "node stopped before the last wheel"
    return results


@pytest.mark.parametrize("command,cli", [
    ("inspect", ["inspect", "--json"]),
    ("audit", ["audit", "--json", "--wheel-only"]),
])
def test_wasm_gives_the_cli_answer(corpus, command, cli):
    """The WASM build under Node (the inspector page and the Action share its module)
    throws the CLI's error sentence for what the CLI refuses — never a trap — and gives
    the CLI's report for what it reads."""
    results = node_results(command, corpus)
    failures = []
    for case in corpus.cases:
        got = results[case["file"]]
        proc = truewheel(*cli, corpus.path(case))
        problems = []
        if not got["ok"]:
            e = got["error"]
            if e["trap"] or "unreachable" in e["message"] or "RuntimeError" in e["message"]:
                problems.append(f"the module trapped: {e['message']!r}")
            elif proc.returncode != 2 or proc.stdout:
                problems.append(f"the WASM build refused ({e['message']!r}) what the CLI read (exit {proc.returncode})")
            elif not proc.stderr.startswith(f"error: {e['message']}\n"):
                problems.append(f"another sentence than the CLI's: {e['message']!r}")
        elif not proc.stdout:
            problems.append(f"the WASM build read what the CLI refused: {proc.stderr.strip()!r}")
        elif got["json"] + "\n" != proc.stdout:
            problems.append("another report than the CLI's")
        check(failures, case, f"wasm {command}", problems)
    report(failures)
