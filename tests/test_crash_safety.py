"""Crash safety of `qa ingest`: SIGKILL at random points, then the index must still be whole.

Every kill starts from a copy of the same index ("before": the five sample articles
and a generated one, ingested in three runs, so versions v000001-v000003 exist and
publishing a fourth prunes one) and runs the same batch ("after": the generated
article changed, two new ones, the sample articles unchanged).  After each kill the
index must load (`open_index`, checksums verified) and be exactly "before" (same
version, same manifest checksums) or exactly "after" (same documents, chunk ids and
texts, file names and counts as an uninterrupted run, vectors equal to 1e-4; checksums
differ only by build timestamps); leftovers of the killed run (staging directories,
``CURRENT.tmp``, a version ``CURRENT`` does not name yet, a half-pruned old version)
must not get in the way; and a rerun must finish and leave "after".

Two kinds of processes are killed:

* Real ``qa ingest`` processes of the running venv, fresh interpreters, killed after a random
  delay (seeded) from their start or from the moment their staging directory appears.
  Each costs a full model load (15-25 s on the shared machine), so there are few.
* Forks of a "zygote" process that has imported everything and loaded and warmed up
  both encoders once, each running ``api.cli.main(["ingest", ...])`` with the
  preloaded models.  They embed with one thread: a fork of a process whose torch has
  started OpenMP worker threads hangs in its first inference.  The child
  counts checkpoints — source reads, embedding batches, store commit, FAISS/BM25/
  manifest writes, each fsync, the rename into ``versions/``, the ``CURRENT`` switch,
  pruning — through an audit hook and a few wrappers, and stops itself (SIGSTOP) at a
  chosen one; the test then sends SIGKILL at once or after SIGCONT and a random delay.
  A checkpoint sequence recorded from an uninterrupted run lets the kills be spread
  over every phase, including the millisecond-long ones a random delay never hits.

Half the forked kills and the real ones use the cross-lingual encoder (the default);
the others ``QA_CROSSLINGUAL_ENCODER=none``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from index.store import versions
from index.store.loader import LoadedIndex, open_index
from tests.conftest import ROOT, SAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.crash_safety]

SEED = 20240611
FORKED_KILLS = 32
REAL_KILLS = 4
PHASES = ("read", "stage", "embed", "write", "fsync", "rename", "switch", "prune")
MAX_DELAY = {"embed": 0.5, "read": 0.05, "stage": 0.05}  # after SIGCONT; else 5 ms
QA = Path(sys.executable).parent / "qa"  # the venv running the tests (make test or test-latest)

ZYGOTE = r"""
import json, os, re, signal, sys
replies = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # whatever else is printed goes to stderr

from qa.settings import Settings
from qa import runtime
import api.cli, index.build, index.store.bm25, index.embed.embedder, index.store.chunks
import index.embed.use_encoder, index.store.vectors, index.store.versions, tqdm
from index.text.textnorm import warm_up

E5 = runtime.load_embedder(Settings(crosslingual_encoder="none"), batch=True)
USE = runtime.load_aux_embedder(Settings(crosslingual_encoder="use-multilingual-v3"))
warm_up()  # jieba and OpenCC
import torch
torch.set_num_threads(1)  # no OpenMP worker threads: forks of this process do not hang
E5.embed_documents(["预热"]), USE.embed_documents(["预热"])
runtime.load_embedder = lambda settings, batch=False: E5
runtime.load_aux_embedder = lambda s: None if s.crosslingual_encoder == "none" else USE


def child(cmd):
    fd = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1), os.dup2(fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.environ.update(cmd["env"])
    idx = os.path.abspath(cmd["env"]["QA_INDEX_DIR"])
    sources = tuple(os.path.abspath(p) for p in cmd["args"])
    stop_at, labels = cmd.get("stop_at"), []

    def checkpoint(label):
        labels.append(label)
        if stop_at is not None and len(labels) - 1 == stop_at:
            os.write(2, f"\nSTOP {stop_at} {label}\n".encode())
            os.kill(os.getpid(), signal.SIGSTOP)

    def under(path, folder):
        return path == folder or path.startswith(folder + os.sep)

    def rel(path):
        return re.sub(r"staging-[^/]+", "staging", os.path.relpath(path, idx))

    def hook(event, args):
        if event not in ("open", "os.rename", "os.mkdir", "shutil.rmtree", "sqlite3.connect"):
            return
        try:
            path = os.path.abspath(os.fsdecode(args[0]))
        except (TypeError, IndexError):
            return  # a file descriptor
        if not under(path, idx):
            if event == "open" and any(under(path, s) for s in sources):
                checkpoint(f"read {os.path.basename(path)}")
        elif event == "open":
            mode = args[1]
            if mode is None:
                kind = "fsync"  # os.open: versions._fsync
            elif "r" in mode and "+" not in mode:
                kind = "hash" if "/staging-" in path else "read-index"
            else:
                kind = "write"
            checkpoint(f"{kind} {rel(path)}")
        elif event == "os.rename":
            checkpoint(f"rename {rel(path)} -> {rel(os.path.abspath(os.fsdecode(args[1])))}")
        else:
            checkpoint(f"{event.split('.')[-1]} {rel(path)}")

    def wrap(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*a, **k):
            checkpoint(label(*a) if callable(label) else label)
            return original(*a, **k)

        setattr(owner, name, wrapper)

    wrap(type(E5), "embed_documents", lambda self, texts: f"embed e5 {len(texts)}")
    wrap(type(USE), "embed_documents", lambda self, texts: f"embed use {len(texts)}")
    wrap(index.store.chunks.ChunkStore, "commit", "commit store.sqlite")
    wrap(index.store.bm25.BM25Index, "build", "build bm25")
    wrap(index.store.vectors.FaissIndex, "save", lambda self, d, f="dense.faiss": f"save {f}")
    sys.addaudithook(hook)
    try:
        code = api.cli.main(["ingest", *cmd["args"]])
    except BaseException as exc:
        print(f"crashed: {exc!r}", file=sys.stderr)
        code = 3
    sys.stdout.flush(), sys.stderr.flush()
    if cmd.get("trace"):
        os.write(2, ("\nTRACE " + json.dumps(labels) + "\n").encode())
    os._exit(code)


replies.write(json.dumps({"ready": True}) + "\n")
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd.get("op") == "quit":
        break
    pid = os.fork()
    if pid == 0:
        try:
            child(cmd)
        finally:
            os._exit(4)
    replies.write(json.dumps({"pid": pid}) + "\n")
    _, status = os.waitpid(pid, 0)
    replies.write(json.dumps({"pid": pid, "status": status}) + "\n")
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        QA_MODEL_CACHE_DIR=str(Path(env.get("QA_MODEL_CACHE_DIR", ROOT / "var" / "models"))),
    )
    env.update(extra)
    return env


class Zygote:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            cwd=ROOT,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(logs / "zygote.log").open("w"),
            text=True,
        )
        self._reply(timeout=600)
        self.runs = 0

    def _reply(self, timeout: float) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"zygote died: {(self.logs / 'zygote.log').read_text()[-3000:]}"
        return json.loads(line)

    def start(self, index_dir: Path, args: list[Path], encoder: str, **cmd: object) -> Run:
        self.runs += 1
        log = self.logs / f"run{self.runs:03d}.log"
        env = {"QA_INDEX_DIR": str(index_dir), "QA_CROSSLINGUAL_ENCODER": encoder}
        request = {"env": env, "args": [str(a) for a in args], "log": str(log), **cmd}
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return Run(self, self._reply(60)["pid"], log)

    def run(self, index_dir: Path, args: list[Path], encoder: str, **cmd: object) -> Run:
        run = self.start(index_dir, args, encoder, **cmd)
        run.wait()
        return run

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Run:
    zygote: Zygote
    pid: int
    log: Path
    status: int | None = None

    def wait(self) -> int:
        if self.status is None:
            reply = self.zygote._reply(600)
            assert reply["pid"] == self.pid
            self.status = reply["status"]
        return self.status

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def exit_code(self) -> int:
        status = self.wait()
        assert os.WIFEXITED(status), f"killed by signal {os.WTERMSIG(status)}:\n{self.output}"
        return os.WEXITSTATUS(status)

    def wait_stopped(self, timeout: float = 300) -> bool:
        """True once stopped at its checkpoint; False if it ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                return False
            if state in ("T", "t"):
                return True
            if state in ("Z", "X"):
                return False
            time.sleep(0.002)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"run did not reach its checkpoint in {timeout} s:\n{self.output}")


def phases(trace: list[str]) -> list[str]:
    """The phase of each checkpoint of an ingest's trace."""
    first_embed = next(n for n, label in enumerate(trace) if label.startswith("embed "))
    first_prune = next((n for n, label in enumerate(trace) if label.startswith("rmtree ")), None)
    out = []
    for n, label in enumerate(trace):
        kind, _, rest = label.partition(" ")
        if n < first_embed:
            out.append("read" if kind == "read" else "stage")  # lock, current version, staging
        elif kind == "embed":
            out.append("embed")
        elif first_prune is not None and n >= first_prune:
            out.append("prune")  # rmtree (and its own os.open) of the oldest version
        elif kind in ("rename", "mkdir", "read-index") and "CURRENT.tmp" not in rest:
            out.append("rename")  # read CURRENT, staging -> versions/vN, fsync versions/
        elif rest == "versions":
            out.append("rename")
        elif "CURRENT" in rest or rest == ".":
            out.append("switch")  # write, fsync, rename CURRENT.tmp; fsync the index folder
        elif kind == "fsync":
            out.append("fsync")
        else:
            out.append("write")  # store commit, FAISS, BM25, manifest (and its hashing)
    return out


@dataclass
class Expected:
    before: dict
    before_version: str
    before_files: dict[str, str]
    after: dict
    after_scores: np.ndarray
    trace: list[str]


def signature(index: LoadedIndex) -> dict:
    return {
        "documents": sorted(index.documents),
        "chunks": sorted((c.id, c.chunk_id, c.text) for c in index.chunks.values()),
        "files": sorted(index.manifest.files),
        "counts": (index.manifest.documents, index.manifest.chunks),
        "models": (index.manifest.model_id, index.manifest.aux_model_id),
        "aux": None if index.aux is None else len(index.aux),
    }


def dense_scores(index: LoadedIndex) -> np.ndarray:
    query = np.random.default_rng(0).standard_normal(index.dense.dimension).astype(np.float32)
    return index.dense.all_scores(query / np.linalg.norm(query))[1]


def disk_state(index_dir: Path, before_version: str) -> str:
    """What a killed run left, in words (for the report)."""
    pointer = (index_dir / "CURRENT").read_text().strip()
    names = sorted(p.name for p in (index_dir / "versions").iterdir())
    staging = sorted(index_dir.glob("staging-*"))
    bits = []
    if pointer != before_version:
        bits.append(f"switched to {pointer}")
    elif any(name > before_version for name in names):
        bits.append("renamed, not switched")
    if staging:
        bits.append(f"staging with {len(list(staging[0].iterdir()))} files")
    if (index_dir / "CURRENT.tmp").exists():
        bits.append("CURRENT.tmp")
    if "v000001" in names and pointer != before_version:
        left = len(list((index_dir / "versions" / "v000001").iterdir()))
        bits.append(f"v000001 not pruned ({left} files)")
    return ", ".join(bits) or "untouched"


def check_index(index_dir: Path, expected: Expected) -> str:
    """The index loads and is exactly before or after; returns which."""
    index = open_index(index_dir)
    if index.version == expected.before_version:
        assert index.manifest.files == expected.before_files
        assert signature(index) == expected.before
        return "before"
    assert index.version > expected.before_version
    assert signature(index) == expected.after
    assert np.allclose(dense_scores(index), expected.after_scores, atol=1e-4)
    return "after"


def _article(rng: random.Random, n: int) -> str:
    places = ["兰州市", "西宁市", "银川市", "乌鲁木齐市", "拉萨市", "呼和浩特市"]
    works = ["基层党组织建设", "乡村振兴", "社区治理", "生态保护", "营商环境", "城市更新"]
    place, work = rng.choice(places), rng.choice(works)
    lines = [f"{place}推进{work}工作会议召开（第{n}号）", ""]
    for i in range(6):
        lines.append(
            f"{place}第{rng.randint(2, 99)}次专题会议要求，围绕{work}抓实抓好第{i + 1}项任务。"
            f"会议指出，要坚持问题导向，细化{rng.randint(3, 30)}条措施，确保各项工作落到实处。"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The zygote, the corpus, "before" indexes for both encoder settings and their "after"."""
    root = tmp_path_factory.mktemp("crash")
    logs = root / "logs"
    logs.mkdir()
    rng = random.Random(SEED)
    changed = root / "changed.txt"
    changed.write_text(_article(rng, 0), encoding="utf-8")
    batch = root / "batch"
    batch.mkdir()
    samples = sorted(SAMPLE.glob("*.txt"))
    for path in samples:
        shutil.copy(path, batch / path.name)
    (batch / changed.name).write_text(
        changed.read_text(encoding="utf-8") + "会议还要求加强督查。\n"
    )
    for n in (1, 2):
        (batch / f"new_{n}.txt").write_text(_article(rng, n), encoding="utf-8")
    zygote = Zygote(logs)
    bases, expected = {}, {}
    try:
        for encoder in ("none", "use-multilingual-v3"):
            base = root / f"before-{encoder}"
            for group in (samples[:3], samples[3:], [changed]):
                assert zygote.run(base, group, encoder).exit_code() == 0
            assert versions.current(base).name == "v000003"
            before = open_index(base)
            after_dir = root / f"after-{encoder}"
            shutil.copytree(base, after_dir)
            run = zygote.run(after_dir, [batch], encoder, trace=True)
            assert run.exit_code() == 0, run.output
            trace = json.loads(run.output.rsplit("\nTRACE ", 1)[1])
            after = open_index(after_dir)
            assert sorted(after.documents) == sorted([*before.documents, "new_1", "new_2"])
            assert (after.aux is None) == (encoder == "none")
            bases[encoder] = base
            expected[encoder] = Expected(
                signature(before),
                before.version,
                before.manifest.files,
                signature(after),
                dense_scores(after),
                trace,
            )
        yield zygote, batch, bases, expected, root
    finally:
        zygote.close()


def test_sigkill_at_random_points_leaves_a_loadable_index_before_or_after(lab):
    zygote, batch, bases, expected, root = lab
    rng = random.Random(SEED)
    outcomes: list[tuple[str, str, str, float, str, str]] = []
    started = time.monotonic()
    for i in range(FORKED_KILLS):
        encoder = "none" if (i // len(PHASES)) % 2 == 0 else "use-multilingual-v3"
        exp = expected[encoder]
        trace_phases = phases(exp.trace)
        phase = PHASES[i % len(PHASES)]
        points = [n for n, p in enumerate(trace_phases) if p == phase]
        assert points, f"no {phase} checkpoint in {exp.trace}"
        stop_at = rng.choice(points)
        at_once = phase != "embed" and rng.random() < 0.5  # embed: kill mid-inference
        delay = 0.0 if at_once else rng.uniform(0, MAX_DELAY.get(phase, 0.005))
        index_dir = root / f"kill{i:02d}"
        shutil.copytree(bases[encoder], index_dir)
        run = zygote.start(index_dir, [batch], encoder, stop_at=stop_at)
        assert run.wait_stopped(), f"run ended before checkpoint {stop_at}:\n{run.output}"
        assert f"STOP {stop_at} {exp.trace[stop_at]}" in run.output
        if delay:
            os.kill(run.pid, signal.SIGCONT)
            time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # it may have finished (and been reaped)
            os.kill(run.pid, signal.SIGKILL)
        status = run.wait()
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        left = disk_state(index_dir, exp.before_version)
        state = check_index(index_dir, exp)
        if delay == 0:  # stopped exactly at the checkpoint: which side is determined
            switched = next(n for n, lab in enumerate(exp.trace) if lab.endswith("-> CURRENT"))
            assert state == ("after" if stop_at > switched else "before"), exp.trace[stop_at]
        label = exp.trace[stop_at] + ("" if killed else " (finished before the kill)")
        _rerun_and_check(zygote, index_dir, batch, encoder, exp)
        outcomes.append((encoder, phase, label, delay, left, state))
    for i in range(REAL_KILLS):
        encoder = "use-multilingual-v3" if i % 2 == 0 else "none"
        exp = expected[encoder]
        index_dir = root / f"real{i}"
        shutil.copytree(bases[encoder], index_dir)
        log = root / "logs" / f"real{i}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(QA), "ingest", str(batch)],
                cwd=ROOT,
                env=_env(QA_INDEX_DIR=str(index_dir), QA_CROSSLINGUAL_ENCODER=encoder),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            if i == REAL_KILLS - 1:  # from the start: anywhere in imports, model load, ingest
                anchor, delay = "start", rng.uniform(0, 20)
            else:  # from the staging directory's appearance: reading, embedding, writing
                anchor, delay = "staging", rng.uniform(0, 4)
                deadline = time.monotonic() + 300
                while not list(index_dir.glob("staging-*")) and proc.poll() is None:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.002)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            code = proc.wait()
        left = disk_state(index_dir, exp.before_version)
        state = check_index(index_dir, exp)
        finished = "" if code == -signal.SIGKILL else f" (finished first, exit {code})"
        if i == 0:  # one rerun by a real `qa ingest` to the end, exit status and all
            rerun = subprocess.run(
                [str(QA), "ingest", str(batch)],
                cwd=ROOT,
                env=_env(QA_INDEX_DIR=str(index_dir), QA_CROSSLINGUAL_ENCODER=encoder),
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert rerun.returncode == 0, rerun.stderr
            assert "failed 0" in rerun.stdout
            _check_after_rerun(index_dir, exp)
        else:
            _rerun_and_check(zygote, index_dir, batch, encoder, exp)
        outcomes.append(
            (encoder, "real qa", f"{delay:.2f} s after {anchor}{finished}", 0.0, left, state)
        )
    _report(outcomes, time.monotonic() - started)
    assert len(outcomes) >= 20
    by_phase = Counter(o[1] for o in outcomes)
    assert all(by_phase[p] >= 2 for p in PHASES), by_phase
    assert {o[5] for o in outcomes} == {"before", "after"}


def _rerun_and_check(zygote: Zygote, index_dir: Path, batch: Path, encoder: str, exp) -> None:
    rerun = zygote.run(index_dir, [batch], encoder)
    assert rerun.exit_code() == 0, rerun.output
    _check_after_rerun(index_dir, exp)


def _check_after_rerun(index_dir: Path, exp: Expected) -> None:
    assert check_index(index_dir, exp) == "after"
    assert not list(index_dir.glob("staging-*")), "the rerun left staging directories"


def _report(outcomes: list[tuple[str, str, str, float, str, str]], seconds: float) -> None:
    print(f"\n{len(outcomes)} kills in {seconds:.0f} s (each followed by a check and a rerun)")
    for encoder, phase, label, delay, left, state in outcomes:
        enc = "none" if encoder == "none" else "USE"
        when = f"+{delay * 1000:.1f} ms" if delay else "at"
        print(f"  [{enc:4}] {phase:7} {when:>10} {label[:60]:60} -> {state:6} | {left}")
    print("  by phase:", dict(Counter(o[1] for o in outcomes)))
    print("  outcome:", dict(Counter(o[5] for o in outcomes)))


def test_a_crashed_writer_never_blocks_the_next_one(lab, tmp_path):
    """The writer lock is an flock: a SIGKILLed holder releases it; a live one refuses."""
    from index.errors import IndexBusy

    zygote, batch, bases, expected, _ = lab
    index_dir = tmp_path / "idx"
    shutil.copytree(bases["none"], index_dir)
    exp = expected["none"]
    stop_at = next(n for n, lab in enumerate(exp.trace) if lab.startswith("embed"))
    run = zygote.start(index_dir, [batch], "none", stop_at=stop_at)
    assert run.wait_stopped()
    with pytest.raises(IndexBusy), versions.writer_lock(index_dir, wait=False):
        pass
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    with versions.writer_lock(index_dir, wait=False):
        pass
    assert check_index(index_dir, exp) == "before"
