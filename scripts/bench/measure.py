#!/usr/bin/env python3
"""Run one command and record its wall time and the CPU time of it and its descendants.

    measure.py --json OUT.json [--stdin FILE] [--stdout FILE] [--stderr FILE] -- CMD ARGS...

Writes {"wall_s", "user_s", "sys_s", "cpu_s", "max_rss_kb", "rc", "stray_processes", "argv"}
to OUT.json and exits with the command's exit status (128+N when a signal N killed it).

CPU time is the RUSAGE_CHILDREN delta across the command's lifetime: the kernel adds a process's
CPU time to its parent's "children" account when the parent waits for it, so every descendant
that was waited for (by the command, by its own children, ...) is included. A descendant that
detaches (a daemon, an ssh ControlPersist master) is reparented to this process, which marks
itself a child subreaper for that purpose: the ones that have exited by the time the command
does are reaped and counted, the ones still running are reported in "stray_processes" (their
CPU is NOT in the figures, so a non-zero count means the measurement is incomplete).

max_rss_kb is the largest resident set of any single process of the tree (not a sum). Linux
carries a process's high-water mark across exec, so it is never below this script's own RSS at
the fork (about 10-15 MB): meaningful for tools larger than that only.
Standard library only.
"""

import argparse
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphaned descendants are reparented to us (Linux >= 3.4); best effort elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def own_children():
    """PIDs whose parent is this process (from /proc), or [] where /proc is missing."""
    me = os.getpid()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                data = stat.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(entry))
    return found


def reap_exited():
    """Reap every already-exited child without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    parser = argparse.ArgumentParser(
        description="Run CMD; write its wall time, CPU time (with descendants) and rc as JSON."
    )
    parser.add_argument("--json", required=True, metavar="OUT.json")
    parser.add_argument("--stdin", metavar="FILE", help="the command reads this on stdin")
    parser.add_argument("--stdout", metavar="FILE", help="the command's stdout goes here")
    parser.add_argument("--stderr", metavar="FILE", help="the command's stderr goes here")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS...")
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command given (put it after --)")

    subreaper = become_subreaper()
    inp = open(args.stdin, "rb") if args.stdin else None
    out = open(args.stdout, "wb") if args.stdout else None
    err = open(args.stderr, "wb") if args.stderr else None

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=inp, stdout=out, stderr=err)
    except OSError as error:
        print(f"measure.py: cannot run {cmd[0]}: {error}", file=sys.stderr)
        return 127

    # Pass an interrupt or termination on to the command, then keep waiting for it.
    def forward(signum, _frame):
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)

    # wait4 retries on EINTR by itself (PEP 475); `forward` never raises.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    # Orphans of the tree that have already exited are our zombies now: count them too.
    reap_exited()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stray = own_children() if subreaper else []

    for handle in (inp, out, err):
        if handle:
            handle.close()

    rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    result = {
        "wall_s": round(wall, 6),
        "user_s": round(user, 6),
        "sys_s": round(system, 6),
        "cpu_s": round(user + system, 6),
        # Linux reports kilobytes; the wait4 figure is the tree's largest process.
        "max_rss_kb": max(usage.ru_maxrss, after.ru_maxrss),
        "rc": rc,
        "stray_processes": len(stray),
        "argv": cmd,
    }
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    if stray:
        print(
            f"measure.py: {len(stray)} descendant(s) of {cmd[0]} still running after it exited;"
            " their CPU time is not counted",
            file=sys.stderr,
        )
    return rc


if __name__ == "__main__":
    sys.exit(main())
