"""Memory and CPU of a server's process tree, read from /proc (or psutil when installed).

``sample_memory`` sums RSS and PSS (pages shared between workers counted once)
and CPU seconds over a process and its descendants; ``process_table`` lists
them one by one; ``index_mappings`` shows how much of each memory-mapped
``*.faiss`` file each process holds.  Linux only.

Leaves out: starting the server and driving it (``benchmarks.load``).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    try:
        import psutil

        proc = psutil.Process(root)
        return [root, *(c.pid for c in proc.children(recursive=True))]
    except ImportError:
        pass
    except Exception:
        return []
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _status_kb(pid: int, key: str, filename: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{filename}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class MemorySample:
    t: float  # seconds since the measured phase started
    rss_mb: float
    pss_mb: float
    processes: int
    cpu_s: float


def sample_memory(root: int, t0: float) -> MemorySample:
    pids = process_tree(root)
    try:
        import psutil

        rss = pss = 0
        cpu = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                rss += proc.memory_info().rss
                pss += getattr(proc.memory_full_info(), "pss", 0)
                times = proc.cpu_times()
                cpu += times.user + times.system
        return MemorySample(time.monotonic() - t0, rss / MB, pss / MB, len(pids), cpu)
    except ImportError:
        rss_kb = sum(_status_kb(pid, "VmRSS") for pid in pids)
        pss_kb = sum(_status_kb(pid, "Pss", "smaps_rollup") for pid in pids)
        cpu = sum(_cpu_seconds(pid) for pid in pids)
        return MemorySample(time.monotonic() - t0, rss_kb / 1024, pss_kb / 1024, len(pids), cpu)


def process_table(root: int) -> list[dict[str, Any]]:
    """Each server process: pid, command line (shortened), RSS and PSS in MB, CPU seconds."""
    rows = []
    for pid in process_tree(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        command = " ".join(a.decode(errors="replace") for a in argv if a)
        rows.append(
            {
                "pid": pid,
                "command": command if len(command) <= 120 else command[:119] + "…",
                "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
                "pss_mb": round(_status_kb(pid, "Pss", "smaps_rollup") / 1024, 1),
                "cpu_s": round(_cpu_seconds(pid), 2),
            }
        )
    return rows


def index_mappings(root: int) -> list[dict[str, Any]]:
    """Per process, the resident and proportional size of its mappings of *.faiss files."""
    out = []
    for pid in process_tree(root):
        files: dict[str, dict[str, int]] = {}
        current: dict[str, int] | None = None
        try:
            lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else ""
                current = (
                    files.setdefault(Path(path).name, {"size_kb": 0, "rss_kb": 0, "pss_kb": 0})
                    if path.endswith(".faiss")
                    else None
                )
            elif current is not None and head and head[0] in ("Size:", "Rss:", "Pss:"):
                current[head[0][:-1].lower() + "_kb"] += int(head[1])
        if files:
            out.append({"pid": pid, "files": files})
    return out
