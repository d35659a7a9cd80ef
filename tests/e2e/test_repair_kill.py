"""A repair killed with SIGKILL at any moment never leaves a file under the final name
that is not the complete wheel (issue 7): outputs are written to a hidden `.tmp` file in
the output folder and renamed into place. Leftover temp files can never be taken for a
wheel, and a rerun after a kill writes the right bytes.

The wheels are made here (see repairable.py) large enough that one repair takes about a
second: a 16 MiB grafted library, an 8 MiB extension to patch, a 6 MiB data member. The
kill delays are drawn from a seeded RNG over the whole measured run time.
"""

import hashlib
import random
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, run
from repairable import HOST_TAG, Toolkit, package, write_wheel

TEMP = re.compile(r"^\.truewheel-[^/]*\.tmp$")
SEED = 20240607


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    work = tmp_path_factory.mktemp("kill")
    tk = Toolkit(work / "toolkit", big_lib_mb=16, fat_ext_mb=8)
    (work / "in").mkdir()
    wheels = []
    for i in range(3):
        dist = f"twc_kill{i}"
        files = package(tk, dist, ["ab", "big", "fat"], data_mb=6, seed=i)
        wheels.append(write_wheel(work / "in", dist, "1.0", HOST_TAG, files))
    # The references, and how long a whole run takes (the median of three).
    ref = work / "ref"
    single, multi = [], []
    for _ in range(3):
        t0 = time.monotonic()
        run("repair", "-q", "-w", ref, wheels[0], env=tk.env(), check=0)
        single.append(time.monotonic() - t0)
        t0 = time.monotonic()
        run("repair", "-q", "--jobs", 2, "-w", ref, *wheels, env=tk.env(), check=0)
        multi.append(time.monotonic() - t0)
    refs = {p.name: p.read_bytes() for p in ref.iterdir()}
    assert len(refs) == 3 and all(n.endswith(".whl") for n in refs), sorted(refs)
    yield tk, wheels, refs, work, sorted(single)[1], sorted(multi)[1]
    shutil.rmtree(work, ignore_errors=True)  # some 500 MB of wheels and temp files


def snapshot(out: Path) -> dict:
    """Name → inode of everything in `out` (a rename into place gives a new inode)."""
    return {p.name: p.stat().st_ino for p in out.iterdir()} if out.exists() else {}


def check_folder(out: Path, refs: dict, checked: set):
    """Everything in `out` is a complete reference wheel under its final name, or a
    leftover temp file that no one could take for a wheel."""
    for p in out.iterdir() if out.exists() else ():
        if TEMP.match(p.name):
            assert not p.name.endswith(".whl")
            continue
        assert p.name in refs, f"unexpected file {p.name} after a kill"
        data = p.read_bytes()
        assert data == refs[p.name], f"{p.name} is not the complete wheel after a kill ({len(data)} bytes)"
        digest = hashlib.sha256(data).digest()
        if (p.name, digest) in checked:
            continue  # the same bytes already passed the checks below
        with zipfile.ZipFile(p) as z:
            assert z.testzip() is None
        run("inspect", p, check=0)
        checked.add((p.name, digest))


def kill_runs(tk, args, work: Path, refs, runtime, kills, seed):
    """Starts `truewheel repair ARGS -w OUT` `kills` times, SIGKILLs each after a delay,
    and checks the output folder after each. The delays are spread over [0, 1.2 × runtime]:
    one drawn in each of `kills` equal slices, in a shuffled order. Even kills write into
    a fresh folder, odd kills into `work/shared`, which keeps the wheels earlier runs
    renamed into place and (a few of) their temp files.
    Returns how far the runs got — `before` (killed before any output file), `writing`
    (killed leaving a temp file), `renamed` (killed after a wheel was renamed into place;
    with several wheels, a kill can be `writing` and `renamed`), `finished` (not killed)
    — the delays, and the last fresh folder (with what its kill left)."""
    rng = random.Random(seed)
    span = 1.2 * runtime / kills
    delays = [rng.uniform(k * span, (k + 1) * span) for k in range(kills)]
    rng.shuffle(delays)
    tally = {"before": 0, "writing": 0, "renamed": 0, "finished": 0}
    checked = set()
    fresh = None
    for k, delay in enumerate(delays):
        if k % 2:
            out = work / "shared"
        else:
            if fresh is not None:
                shutil.rmtree(fresh, ignore_errors=True)  # 60 MB temp files add up
            out = fresh = work / f"fresh-{k}"
        before = snapshot(out)
        proc = subprocess.Popen([BIN, "repair", "-q", "-w", out, *args], env=tk.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        finished = proc.poll() is not None
        proc.kill()
        _, err = proc.communicate()
        assert b"panicked" not in err, err
        check_folder(out, refs, checked)
        after = snapshot(out)
        new = {n for n, ino in after.items() if before.get(n) != ino}
        wrote = any(TEMP.match(n) for n in new)
        renamed = any(n in refs for n in new)
        if finished:
            assert proc.returncode == 0, err
            tally["finished"] += 1
        else:
            tally["writing"] += wrote
            tally["renamed"] += renamed
            tally["before"] += not (wrote or renamed)
        if k % 2:
            for n in sorted(n for n in after if TEMP.match(n))[2:]:
                (out / n).unlink()
    return tally, delays, fresh


def rerun_replaces(tk, wheels, out, refs, *extra):
    """A rerun into a folder a kill left things in succeeds and writes every wheel whole,
    replacing the wheels already there."""
    before = snapshot(out)
    run("repair", "-q", *extra, "-w", out, *wheels, env=tk.env(), check=0)
    after = snapshot(out)
    written = sorted(n for n in after if n.endswith(".whl"))
    dists = tuple(w.name.split("-")[0] + "-" for w in wheels)
    assert written == sorted(n for n in refs if n.startswith(dists))
    for n in written:
        assert (out / n).read_bytes() == refs[n]
        assert after[n] != before.get(n), f"{n} was not written again"
    # Temp files others left are not touched (they may belong to a running repair), and
    # no new one is left.
    assert {n for n in after if TEMP.match(n)} == {n for n in before if TEMP.match(n)}


def test_killed_single_repair_never_leaves_a_partial_wheel(setup):
    tk, wheels, refs, work, single, _ = setup
    t0 = time.monotonic()
    tally, delays, fresh = kill_runs(tk, [wheels[0]], work / "single", refs, single, kills=36, seed=SEED)
    print(f"\none wheel: a repair takes {single:.2f} s; 36 kills at {min(delays):.2f}–{max(delays):.2f} s: "
          f"{tally}; {time.monotonic() - t0:.1f} s")
    # The kills landed across the run: before any output and while the temp file was
    # being written.
    assert tally["before"] >= 1 and tally["writing"] >= 1, tally
    rerun_replaces(tk, [wheels[0]], work / "single" / "shared", refs)
    rerun_replaces(tk, [wheels[0]], fresh, refs)


def test_killed_multi_wheel_repair_with_two_jobs(setup):
    tk, wheels, refs, work, _, multi = setup
    t0 = time.monotonic()
    tally, delays, fresh = kill_runs(tk, ["--jobs", "2", *wheels], work / "multi", refs, multi, kills=20,
                                     seed=SEED + 1)
    print(f"\n3 wheels, --jobs 2: a repair takes {multi:.2f} s; 20 kills at {min(delays):.2f}–{max(delays):.2f} s: "
          f"{tally}; {time.monotonic() - t0:.1f} s")
    # Some kills landed while a wheel was being written, some after one was in place
    # and before the others were.
    assert tally["writing"] >= 1 and tally["renamed"] >= 1, tally
    rerun_replaces(tk, wheels, work / "multi" / "shared", refs, "--jobs", "2")
    rerun_replaces(tk, wheels, fresh, refs, "--jobs", "2")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_interrupted_repair_removes_its_temp_files(setup, sig):
    """Ctrl-C, SIGTERM and SIGHUP (a closed terminal) remove the temp files of the
    outputs being written before the process ends as the signal would (a SIGKILL
    cannot be caught: its temp files stay, as above). Interrupted at spread delays, so
    that some land while a wheel is being written; a run the signal missed finished."""
    tk, wheels, refs, work, _, multi = setup
    out = work / f"interrupted-{sig.name}"
    checked, wrote, ended = set(), 0, 0
    for k in range(6):
        proc = subprocess.Popen([BIN, "repair", "-q", "--jobs", "2", "-w", out, *wheels], env=tk.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Until the first temp file appears (or the run ends), then a little more.
        t0 = time.monotonic()
        while proc.poll() is None and not any(TEMP.match(p.name) for p in out.glob(".truewheel-*")):
            if time.monotonic() - t0 > 60:
                break
            time.sleep(0.005)
        time.sleep(k * multi / 8)
        wrote += any(TEMP.match(p.name) for p in out.glob(".truewheel-*"))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert b"panicked" not in err, err
        if proc.returncode == 0:
            continue  # it finished before the signal
        assert proc.returncode == -sig, (proc.returncode, err)
        ended += 1
        left = [p.name for p in out.iterdir() if TEMP.match(p.name)]
        assert not left, f"{sig.name} left {left}"
        check_folder(out, refs, checked)
    assert wrote >= 1 and ended >= 1, (wrote, ended)
