#!/usr/bin/env python3
"""The farm half of the benchmark: `prober farm` serves virtual assets on loopback and
`prober check` probes them, measured from outside (wall time, the prober's CPU and peak RSS
by measure.py, the farm's CPU from /proc).

    farm.py OUTDIR --prober PATH [--quick]

Writes OUTDIR/farm.json (every run) and OUTDIR/sweep.csv (throughput against concurrency,
for plot.py). Runs:
  scale  the default mix at 1,000, 10,000 and 100,000 assets, default concurrency: the share
         of results matching the farm's expected categories, and memory against inventory size;
  sweep  10,000 healthy assets at rising concurrency, up to 10,000 probes at once: full admin
         probes per second, client CPU per probe, peak RSS.
Standard library only. Traffic goes to 127.128.0.0/12 on loopback only.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time

DEFAULT_MIX = "ok=90,auth_failed=3,reset=2,silent=2,not_ssh=1,python_missing=2"
DEFAULT_CONCURRENCY = 256
# Silent assets end at the banner timeout; 2 s instead of 10 keeps the runs' tails short.
BANNER_TIMEOUT = "2s"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MEASURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "measure.py")


def log(message):
    print(f"[farm {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Farm:
    """A `prober farm` process, ready when it says so."""

    def __init__(self, prober, assets, mix, inventory):
        self.inventory = inventory
        base = inventory[: -len(".csv")]
        self.credentials = base + ".credentials.toml"
        expected = base + ".expected.csv"
        self.log = open(base + ".farm.log", "w")
        self.proc = subprocess.Popen(
            [prober, "farm", "--assets", str(assets), "--mix", mix, "--out", inventory],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        # The farm prints its files, then `ready`; it exits (EOF here) if it cannot start.
        for line in self.proc.stdout:
            if line.strip() == "ready":
                # Read once: every round compares its results with it.
                self.expected = categories(expected)
                return
        self.stop()
        raise SystemExit(f"prober farm did not get ready (see {self.log.name})")

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def categories(path):
    with open(path, newline="") as f:
        return {row["name"]: row["category"] for row in csv.DictReader(f)}


def check(prober, farm, name, outdir, concurrency, assets):
    """One measured `prober check` of the farm; returns its figures."""
    results = os.path.join(outdir, "raw", f"{name}.csv")
    known_hosts = os.path.join(outdir, "raw", f"{name}.known_hosts")
    if os.path.exists(known_hosts):
        os.remove(known_hosts)
    argv = [
        prober, "check", farm.inventory,
        "--credentials", farm.credentials,
        "--known-hosts", known_hosts,
        "--concurrency", str(concurrency),
        "--banner-timeout", BANNER_TIMEOUT,
        "--format", "csv", "--output", results, "--quiet",
    ]
    raw = os.path.join(outdir, "raw", name)
    farm_cpu = farm.cpu_s()
    subprocess.run(
        [sys.executable, MEASURE, "--json", raw + ".json", "--stdout", os.devnull, "--stderr", raw + ".err", "--"]
        + argv,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    farm_cpu = farm.cpu_s() - farm_cpu
    with open(raw + ".json") as f:
        measured = json.load(f)
    # 1 only says some assets failed, which the mix makes sure of; 2 is an error.
    if measured["rc"] not in (0, 1):
        raise SystemExit(f"{name}: prober check exited {measured['rc']}; see raw/{name}.err")
    got = categories(results)
    matching = sum(1 for n, c in farm.expected.items() if got.get(n) == c)
    wall = measured["wall_s"]
    figures = {
        "name": name,
        "assets": assets,
        "concurrency": concurrency,
        "wall_s": round(wall, 3),
        "probes_per_s": round(assets / wall, 1),
        "user_s": round(measured["user_s"], 3),
        "sys_s": round(measured["sys_s"], 3),
        "cpu_ms_per_probe": round(measured["cpu_s"] * 1000 / assets, 3),
        "max_rss_mb": round(measured["max_rss_kb"] / 1024, 1),
        "farm_cpu_ms_per_probe": round(farm_cpu * 1000 / assets, 3),
        "results": len(got),
        "matching": matching,
        "match_pct": round(100.0 * matching / assets, 3),
        "argv": " ".join(os.path.basename(a) if a == prober else a for a in argv),
    }
    log(
        f"{name}: {assets} assets at concurrency {concurrency}: {figures['wall_s']} s, "
        f"{figures['probes_per_s']}/s, {figures['cpu_ms_per_probe']} ms CPU/probe, "
        f"{figures['max_rss_mb']} MB, {figures['match_pct']}% match"
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    parser.add_argument("--prober", required=True)
    parser.add_argument("--quick", action="store_true", help="fewer and smaller runs, to try the script")
    args = parser.parse_args()
    os.makedirs(os.path.join(args.outdir, "raw"), exist_ok=True)
    prober = os.path.abspath(args.prober)

    scale_sizes = [1000, 10000] if args.quick else [1000, 10000, 100000]
    rounds = 1 if args.quick else 3
    sweep_assets = 2000 if args.quick else 10000
    # Up to every asset in flight at once; no setting above that (it would run the same).
    sweep = [c for c in (16, 64, 256, 1024, 4096) if c < sweep_assets] + [sweep_assets]
    commit = subprocess.run(
        ["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    runs = {"commit": commit, "mix": DEFAULT_MIX, "banner_timeout": BANNER_TIMEOUT, "scale": [], "sweep": []}

    for assets in scale_sizes:
        farm = Farm(prober, assets, DEFAULT_MIX, os.path.join(args.outdir, "raw", f"mix-{assets}.csv"))
        try:
            for r in range(1 if assets >= 100000 else rounds):
                runs["scale"].append(
                    check(prober, farm, f"mix-{assets}-r{r + 1}", args.outdir, DEFAULT_CONCURRENCY, assets)
                )
        finally:
            farm.stop()

    farm = Farm(prober, sweep_assets, "ok=1", os.path.join(args.outdir, "raw", f"ok-{sweep_assets}.csv"))
    try:
        # Interleaved rounds, so a slow moment of the machine does not favour one setting.
        for r in range(rounds):
            for concurrency in sweep:
                runs["sweep"].append(
                    check(prober, farm, f"ok-c{concurrency}-r{r + 1}", args.outdir, concurrency, sweep_assets)
                )
    finally:
        farm.stop()

    with open(os.path.join(args.outdir, "farm.json"), "w") as f:
        json.dump(runs, f, indent=1)
    with open(os.path.join(args.outdir, "sweep.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["concurrency", "probes_per_s", "cpu_ms_per_probe", "max_rss_mb", "round"])
        for run in runs["sweep"]:
            writer.writerow(
                [run["concurrency"], run["probes_per_s"], run["cpu_ms_per_probe"], run["max_rss_mb"], run["name"][-2:]]
            )


if __name__ == "__main__":
    main()
