"""Peer B's main-side half: txtai's own virtual environment, and a client for its helper.

`ensure_venv` creates ``var/peers/txtai-venv`` with this interpreter's base Python,
installs ``torch==2.13.0`` first (the CPU build, from the machine's local wheels) and
then txtai with torch pinned, so nothing pulls a CUDA build; it checks that torch has no
CUDA, writes a stamp, and skips all of it while the stamp matches.  `TxtaiPeer` starts
``benchmarks/peer_txtai.py`` in that venv (offline), which loads or builds its cached
index, and then asks it one question at a time over stdin/stdout JSON lines; the
latency is the helper's own per-query time, so the pipe is not counted.

Leaves out: txtai itself (``peer_txtai.py`` runs it) and scoring (``peer_report``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
TORCH = "torch==2.13.0"
REQUIREMENTS = ("txtai==9.14.0", TORCH)
STAMP = ".peers-installed"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path, log: Path) -> bool:
    """Create and fill the venv unless its stamp matches; True when it installed anything."""
    wanted = "\n".join([TORCH, *REQUIREMENTS]) + "\n"
    stamp = venv / STAMP
    if venv_python(venv).exists() and stamp.is_file() and stamp.read_text() == wanted:
        return False
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        if not venv_python(venv).exists():
            _run([sys.executable, "-m", "venv", str(venv)], out)
        pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet"]
        _run([*pip, TORCH], out)
        _run([*pip, *REQUIREMENTS], out)
        check = "import torch, sys; sys.exit(1 if torch.version.cuda else 0)"
        _run([str(venv_python(venv)), "-c", check], out)
    stamp.write_text(wanted)
    return True


def _run(cmd: list[str], out: TextIO) -> None:
    out.write(f"$ {' '.join(cmd)}\n")
    out.flush()
    done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise SystemExit(f"txtai venv setup failed ({done.returncode}): {' '.join(cmd)}")


def offline_env(threads: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    return keep | {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": str(threads),
    }


class TxtaiPeer:
    """txtai `Embeddings` in a child process: ask one question, get ranked passage ids back."""

    name = "txtai"

    def __init__(self, venv: Path, model: Path, cache: Path, corpus: Path, threads: int) -> None:
        self.log = cache / "txtai-helper.log"
        cmd = [str(venv_python(venv)), str(HERE / "peer_txtai.py"), "--model", str(model)]
        cmd += ["--cache", str(cache), "--corpus", str(corpus), "--threads", str(threads)]
        self._stderr = self.log.open("w", encoding="utf-8")
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=offline_env(threads),
            text=True,
            encoding="utf-8",
        )
        self.ready = self._receive()
        self.config: dict[str, Any] = self.ready["config"]

    def query(self, question: str) -> tuple[list[str], float]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"question": question}, ensure_ascii=False) + "\n")
        self._proc.stdin.flush()
        reply = self._receive()
        return reply["ids"], reply["ms"]

    def _receive(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(timeout=30)
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise SystemExit(f"txtai helper exited ({self._proc.returncode}):\n{tail}")
        return dict(json.loads(line))

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._stderr.close()
