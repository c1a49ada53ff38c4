"""Where a running process's time goes: py-spy samples it, and the collapsed stacks are summarised.

py-spy reads the target's memory from outside (no change to the process; `--nonblocking` does
not pause it, so it costs the target nothing but a share of the machine's CPU). Only threads
that are running count (py-spy leaves idle ones out), so the shares below are shares of
the process's busy time, its event loop and its thread pool together.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Frames every stack passes through that say nothing about the work: the command line, thread start-up,
# the event loop.
_PLUMBING = re.compile(r"^(threading\.py|asyncio/|concurrent/futures/|<frozen runpy>|selectors\.py|typer/|click/"
                       r"|mode/worker\.py|workers/(__main__|cli|run)\.py)")


def py_spy() -> str:
    """The py-spy executable beside this interpreter, or on PATH (`pip install -e '.[test]'`)."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is not installed: pip install -e '.[test]'")
    return found


class Recording:
    """py-spy sampling one process from `start()` until `stop()`, into a collapsed-stack file."""

    def __init__(self, pid: int, output: Path, rate_hz: int = 100) -> None:
        self.output = output
        self.rate_hz = rate_hz
        self._command = [py_spy(), "record", "--pid", str(pid), "--rate", str(rate_hz), "--format", "raw",
                         "--function", "--nonblocking", "--output", str(output)]
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> Recording:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def stop(self) -> None:
        """Stop sampling (py-spy writes its file on SIGINT); raises if it wrote nothing."""
        assert self._process is not None, "not started"
        self._process.send_signal(signal.SIGINT)
        try:
            _, errors = self._process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, errors = self._process.communicate()
        if not self.output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {errors.decode(errors='replace').strip()}")


@dataclass(frozen=True, slots=True)
class Summary:
    """Samples per function: where it was running (self) and where it was on the stack (cumulative)."""

    samples: int
    self_counts: Counter[str]
    cumulative: Counter[str]
    packages: Counter[str]  # self samples by the leaf frame's top-level package or module


def summarise(collapsed: Path) -> Summary:
    """Read py-spy's raw (collapsed) output: one `frame;frame;...;leaf count` line per distinct stack."""
    self_counts: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        count = int(match["count"])
        frames = match["stack"].split(";")
        total += count
        self_counts[frames[-1]] += count
        packages[_package(frames[-1])] += count
        for frame in set(frames):
            cumulative[frame] += count
    return Summary(total, self_counts, cumulative, packages)


def _package(frame: str) -> str:
    match = _FRAME.match(frame)
    path = match["file"] if match else frame
    return path.split("/", 1)[0].removesuffix(".py") if "/" in path else path.removesuffix(".py")


def report(summary: Summary, top: int = 15) -> list[str]:
    """Printable lines: busy time by package, then the top functions by self and by cumulative time."""
    n = summary.samples or 1
    lines = ["  by package (self): " + " · ".join(f"{name} {count / n:.0%}"
                                                 for name, count in summary.packages.most_common(8))]
    lines.append(f"  top {top} by self time:    self    cum")
    lines += [f"    {summary.self_counts[f] / n:>21.1%} {summary.cumulative[f] / n:>6.1%}  {f}"
              for f, _ in summary.self_counts.most_common(top)]
    interesting = Counter({f: c for f, c in summary.cumulative.items()
                           if not _PLUMBING.match(_FRAME.match(f)["file"] if _FRAME.match(f) else f)})
    lines.append(f"  top {top} by cumulative:   self    cum   (command line, threads and event loop left out)")
    lines += [f"    {summary.self_counts[f] / n:>21.1%} {c / n:>6.1%}  {f}" for f, c in interesting.most_common(top)]
    return lines
