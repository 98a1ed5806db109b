"""The farm half of the benchmark: `prober farm` serves virtual assets on loopback and
`prober check` probes them, measured from outside (wall time, the prober's CPU and peak RSS by
measure.run, the farm's CPU from /proc).

Runs:
  scale  the default mix at 1,000, 10,000 and 100,000 assets, default concurrency: the share of
         results matching the farm's expected categories, and memory against inventory size;
  sweep  healthy assets only, at rising concurrency up to every asset in flight at once: full
         admin probes per second, client CPU per probe, peak RSS.
Writes OUTDIR/farm.json (every run, the machine) and OUTDIR/raw/ (inventories, results,
measurements). Traffic goes to 127.128.0.0/12 on loopback only.
"""

import os
import signal
import subprocess
from collections import defaultdict

import measure
from common import CLOCK_TICKS, BenchError, log, machine, median, read_csv, write_json

DEFAULT_MIX = "ok=90,auth_failed=3,reset=2,silent=2,not_ssh=1,python_missing=2"
DEFAULT_CONCURRENCY = 256
# Silent assets end at the banner timeout; 2 s instead of 10 keeps the runs' tails short.
BANNER_TIMEOUT = "2s"
SWEEP = (16, 64, 256, 1024, 4096)


class Farm:
    """A `prober farm` process serving one inventory, ready when it says so."""

    def __init__(self, prober, assets, mix, inventory):
        self.assets = assets
        self.inventory = inventory
        base = inventory[: -len(".csv")]
        self.credentials = base + ".credentials.toml"
        self.log = open(base + ".farm.log", "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [prober, "farm", "--assets", str(assets), "--mix", mix, "--output", inventory],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        # The farm prints its files, then `ready`; it exits (EOF here) if it cannot start.
        for line in self.proc.stdout:
            if line.strip() == "ready":
                # Read once: every round compares its results with it.
                self.expected = categories(base + ".expected.csv")
                return
        self.stop()
        raise BenchError(f"prober farm did not get ready (see {self.log.name})")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

    def cpu_s(self):
        """CPU seconds the farm has used so far (it is not waited for until the end)."""
        with open(f"/proc/{self.proc.pid}/stat", encoding="utf-8") as stat:
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
    return {row["name"]: row["category"] for row in read_csv(path)}


def check(prober, farm, name, raw, concurrency):
    """One measured `prober check` of the farm; returns its figures."""
    results = os.path.join(raw, f"{name}.csv")
    known_hosts = os.path.join(raw, f"{name}.known_hosts")
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
    prefix = os.path.join(raw, name)
    farm_cpu = farm.cpu_s()
    measured = measure.run(argv, prefix + ".json", stderr=prefix + ".err")
    farm_cpu = farm.cpu_s() - farm_cpu
    # 1 only says some assets failed, which the mix makes sure of; 2 is an error.
    if measured["rc"] not in (0, 1):
        raise BenchError(f"{name}: prober check exited {measured['rc']}; see {prefix}.err")
    rows = read_csv(results)
    got = {row["name"]: row["category"] for row in rows}
    matching = sum(1 for n, c in farm.expected.items() if got.get(n) == c)
    assets = farm.assets
    figures = {
        "name": name,
        "assets": assets,
        "concurrency": concurrency,
        "wall_s": round(measured["wall_s"], 3),
        "probes_per_s": round(assets / measured["wall_s"], 1),
        "user_s": round(measured["user_s"], 3),
        "sys_s": round(measured["sys_s"], 3),
        "cpu_ms_per_probe": round(measured["cpu_s"] * 1000 / assets, 3),
        "max_rss_mb": round(measured["max_rss_kb"] / 1024, 1),
        "farm_cpu_ms_per_probe": round(farm_cpu * 1000 / assets, 3),
        "results": len(rows),
        "matching": matching,
        "match_pct": round(100.0 * matching / assets, 3),
        "kex": sorted({row["kex"] for row in rows if row.get("kex")}),
        # As the report shows it: the prober by name, the run's files without their directory.
        "argv": " ".join(os.path.basename(a) if a == prober else a for a in argv).replace(raw + "/", ""),
    }
    log(
        "farm",
        f"{name}: {assets} assets at concurrency {concurrency}: {figures['wall_s']} s, "
        f"{figures['probes_per_s']}/s, {figures['cpu_ms_per_probe']} ms CPU/probe, "
        f"{figures['max_rss_mb']} MB, {figures['match_pct']}% match",
    )
    return figures


def run(outdir, prober, quick=False):
    """Both parts of the farm benchmark; writes OUTDIR/farm.json."""
    raw = os.path.join(outdir, "raw")
    os.makedirs(raw, exist_ok=True)
    prober = os.path.abspath(prober)
    scale_sizes = [1000, 10000] if quick else [1000, 10000, 100000]
    rounds = 1 if quick else 3
    sweep_assets = 2000 if quick else 10000
    # Up to every asset in flight at once; no setting above that (it would run the same).
    sweep = [c for c in SWEEP if c < sweep_assets] + [sweep_assets]
    # Peak RSS is never below the measuring process's own (see measure.py): recorded, so the
    # report can say where its memory figures stop meaning anything.
    floor = measure.run(["true"], os.path.join(raw, "rss-floor.json"))["max_rss_kb"]
    runs = {
        "machine": machine(prober),
        "rss_floor_mb": round(floor / 1024, 1),
        "mix": DEFAULT_MIX,
        "default_concurrency": DEFAULT_CONCURRENCY,
        "banner_timeout": BANNER_TIMEOUT,
        "scale": [],
        "sweep": [],
    }

    for assets in scale_sizes:
        with Farm(prober, assets, DEFAULT_MIX, os.path.join(raw, f"mix-{assets}.csv")) as farm:
            for r in range(1 if assets >= 100000 else rounds):
                runs["scale"].append(check(prober, farm, f"mix-{assets}-r{r + 1}", raw, DEFAULT_CONCURRENCY))

    with Farm(prober, sweep_assets, "ok=1", os.path.join(raw, f"ok-{sweep_assets}.csv")) as farm:
        # Interleaved rounds, so a slow moment of the machine does not favour one setting.
        for r in range(rounds):
            for concurrency in sweep:
                runs["sweep"].append(check(prober, farm, f"ok-c{concurrency}-r{r + 1}", raw, concurrency))

    write_json(os.path.join(outdir, "farm.json"), runs)
    log("farm", f"wrote {outdir}/farm.json")


def by_concurrency(runs, field):
    """Median of a field over the rounds, per concurrency setting (ascending)."""
    groups = defaultdict(list)
    for entry in runs:
        groups[entry["concurrency"]].append(entry[field])
    return {c: median(v) for c, v in sorted(groups.items())}


def by_size(runs):
    """The scale runs grouped by inventory size (ascending)."""
    groups = defaultdict(list)
    for entry in runs:
        groups[entry["assets"]].append(entry)
    return dict(sorted(groups.items()))


def summary(data):
    """The sweep's medians per concurrency and the figures the targets are judged on."""
    sweep = data["sweep"]
    throughput = by_concurrency(sweep, "probes_per_s")
    rss = by_concurrency(sweep, "max_rss_mb")
    assets = sweep[0]["assets"]
    best = max(throughput, key=throughput.get)
    least, most = min(throughput), max(throughput)
    in_flight = min(most, assets)
    fitting = [c for c in rss if rss[c] < 256]
    sizes = by_size(data["scale"])
    return {
        "assets": assets,
        "throughput": throughput,
        "cpu": by_concurrency(sweep, "cpu_ms_per_probe"),
        "farm_cpu": by_concurrency(sweep, "farm_cpu_ms_per_probe"),
        "rss": rss,
        "best": best,
        "least": least,
        "most": most,
        "in_flight": in_flight,
        # Peak RSS between the lowest and highest concurrency, per extra probe in flight.
        "kb_per_session": (rss[most] - rss[least]) * 1024 / max(1, in_flight - min(least, assets)),
        "largest_fit": min(max(fitting), assets) if fitting else None,
        "sizes": sizes,
        "rss_at": {n: median(r["max_rss_mb"] for r in runs) for n, runs in sizes.items()},
        "kex": sorted({k for entry in data["scale"] + sweep for k in entry.get("kex", [])}),
    }
