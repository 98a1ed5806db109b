"""Run one command and record its wall time and the CPU time of it and its descendants.

run() writes {"wall_s", "user_s", "sys_s", "cpu_s", "max_rss_kb", "rc", "stray_processes",
"argv"} to a JSON file and returns it; rc is the command's exit status (128+N when signal N
killed it).

CPU time is the RUSAGE_CHILDREN delta across the command's lifetime: the kernel adds a process's
CPU time to its parent's "children" account when the parent waits for it, so every descendant
that was waited for (by the command, by its own children, ...) is included. A descendant that
detaches (a daemon, an ssh ControlPersist master) is reparented to the measuring process, which
marks itself a child subreaper for that purpose: the ones that have exited by the time the
command does are reaped and counted, the ones still running are reported in "stray_processes"
(their CPU is NOT in the figures, so a non-zero count means the measurement is incomplete).

The measuring process is this file run as a script, a fresh Python made for this one command:
the subreaper flag and the "children" account then cover this command's tree only (not, say,
the farm, which is the bench's own child and keeps running across many measurements).

max_rss_kb is the largest resident set of any single process of the tree (not a sum). Linux
carries a process's high-water mark across exec, so it is never below the measuring process's
own RSS when it starts the command. That is why the measuring process is a fresh, small Python
(about 10-15 MB) rather than a fork of the bench, whose RSS grows with the inventories it reads,
and why this file imports nothing from the bench: the figure is meaningful for tools larger
than that floor only.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def run(argv, json_path, *, stdin=None, stdout=None, stderr=None, cwd=None):
    """Measure argv (stdin/stdout/stderr: file paths, or None for /dev/null); returns the
    figures, also written to json_path."""
    # Absolute paths: the command may run in another directory (cwd).
    files = (("json", json_path), ("stdin", stdin), ("stdout", stdout), ("stderr", stderr))
    options = [f"--{name}={os.path.abspath(path)}" for name, path in files if path]
    measurer = [sys.executable, os.path.abspath(__file__), *options, "--", *map(str, argv)]
    with subprocess.Popen(measurer, cwd=cwd, stdin=subprocess.DEVNULL) as proc:
        try:
            proc.wait()
        except BaseException:
            # Interrupted or terminated: the measuring process passes it on to the command and
            # waits for it, so nothing is left running.
            proc.terminate()
            proc.wait()
            raise
    if proc.returncode:
        raise RuntimeError(f"measuring {argv[0]} failed (see above)")
    with open(json_path, encoding="utf-8") as handle:
        return json.load(handle)


def _become_subreaper():
    """Orphaned descendants are reparented to us (Linux >= 3.4); best effort elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _own_children():
    """PIDs whose parent is this process (from /proc): descendants still running."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
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


def _reap_exited():
    """Reap every already-exited child without blocking, so its CPU time is counted."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _open(path, mode):
    return open(path if path else os.devnull, mode)


def _measure(argv, json_path, stdin, stdout, stderr):
    """The measuring process: run the command, wait for it, write the figures."""
    subreaper = _become_subreaper()
    with _open(stdin, "rb") as inp, _open(stdout, "wb") as out, _open(stderr, "wb") as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=err)

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
    _reap_exited()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stray = _own_children() if subreaper else []
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    result = {
        "wall_s": round(wall, 6),
        "user_s": round(user, 6),
        "sys_s": round(system, 6),
        "cpu_s": round(user + system, 6),
        # Linux reports kilobytes; the wait4 figure is the tree's largest process.
        "max_rss_kb": max(usage.ru_maxrss, after.ru_maxrss),
        "rc": proc.returncode if proc.returncode >= 0 else 128 - proc.returncode,
        "stray_processes": len(stray),
        "argv": [str(a) for a in argv],
    }
    with open(json_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    if stray:
        print(
            f"measure: {len(stray)} descendant(s) of {argv[0]} still running after it exited;"
            " their CPU time is not counted",
            file=sys.stderr,
        )


def main():
    """measure.py --json OUT.json [--stdin FILE] [--stdout FILE] [--stderr FILE] -- CMD ARGS...
    (run() builds this command line; exits 0 once the figures are written)."""
    options, argv = {}, sys.argv[1:]
    while argv and argv[0] != "--":
        name, _, value = argv.pop(0).partition("=")
        options[name.lstrip("-")] = value
    if not argv[1:] or "json" not in options:
        sys.exit(main.__doc__)
    _measure(argv[1:], options["json"], options.get("stdin"), options.get("stdout"), options.get("stderr"))


if __name__ == "__main__":
    main()
