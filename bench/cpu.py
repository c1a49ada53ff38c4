"""CPU accounting for the benches (Linux /proc): the machine's busy time and that of named processes."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds used so far: by the whole machine, and per label by each process named under it."""

    at: float  # time.monotonic()
    machine_s: float
    labelled_s: Mapping[str, Mapping[int, float]]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads) so far; 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_cpu_s() -> float:
    """Busy CPU seconds of every core together since boot (idle and iowait left out)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


def child_pids(command_prefix: str) -> list[int]:
    """This process's children whose command name starts with `command_prefix` (e.g. the Tansu broker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if int(tail.split()[1]) == os.getpid() and head.split("(", 1)[1].startswith(command_prefix):
            found.append(int(stat.parent.name))
    return found


def snapshot(processes: Mapping[str, Sequence[int]]) -> CpuSnapshot:
    """Read the machine's and each label's processes' CPU time now."""
    return CpuSnapshot(time.monotonic(), machine_cpu_s(),
                       {label: {pid: process_cpu_s(pid) for pid in pids} for label, pids in processes.items()})


def cores_used(first: CpuSnapshot, last: CpuSnapshot) -> dict[str, float]:
    """Cores busy on average between two snapshots, per label, with `rest` (everything unlabelled on
    the machine) and `machine` (the sum). A process first seen in `last` counts all its CPU time."""
    wall = last.at - first.at
    used = {label: sum(s - first.labelled_s.get(label, {}).get(pid, 0.0) for pid, s in pids.items()) / wall
            for label, pids in last.labelled_s.items()}
    machine = (last.machine_s - first.machine_s) / wall
    return {**used, "rest": max(0.0, machine - sum(used.values())), "machine": machine}
