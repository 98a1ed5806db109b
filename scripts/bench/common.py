"""What every part of the bench shares: paths, logging, running a tool for its output, medians,
the JSON and CSV files of a run, and the description of the machine the run measured.

Kept in one place so that measuring, comparing and reporting agree on file formats and on how a
figure is summarised.
"""

import csv
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A run cannot go on; the entry point prints the message and exits 1."""


def log(part, message):
    """Progress on stderr, so that stdout stays free for the tools' own output."""
    print(f"[{part} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values):
    """The median of the values that were measured (None where none were)."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def output(argv, *, stderr=False):
    """A tool's stdout (or stderr), stripped; empty when it cannot be run. For version strings
    and similar facts, where a missing tool must not stop the benchmark."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (done.stderr if stderr else done.stdout).strip()


def first_line(text):
    return text.splitlines()[0] if text else ""


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")


def read_csv(path):
    """Rows as dicts keyed by the header (the prober's results, the fixtures' inventory)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def binary_version(path):
    """`prober --version` and a digest of the file, so a report names exactly what ran."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return f"{output([str(path), '--version'])} (sha256 {digest})"


def _field(path, prefix, separator):
    """The value of the first line of `path` that starts with `prefix`, or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(separator, 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def _cpu_model():
    return _field("/proc/cpuinfo", "model name", ":") or "unknown"


def _memory():
    with open("/proc/meminfo", encoding="utf-8") as handle:
        kb = int(handle.readline().split()[1])
    return f"{kb / 1024 / 1024:.0f} GiB"


def _os_name():
    return _field("/etc/os-release", "PRETTY_NAME=", "=") or platform.system()


def loadavg():
    with open("/proc/loadavg", encoding="utf-8") as handle:
        return " ".join(handle.read().split()[:3])


def machine(prober):
    """The machine, the toolchain and the checkout as they were when a step measured, recorded
    in its JSON so that a report regenerated later still describes that run."""
    dirty = output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {
        "measured_at": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory": _memory(),
        "kernel": platform.release(),
        "os": _os_name(),
        "rustc": output(["rustc", "--version"]),
        "python": platform.python_version(),
        "prober": binary_version(prober),
        "commit": output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "uncommitted_changes": bool(dirty),
    }
