"""docs/BENCHMARKS.md and its plot from the raw results of one run (OUTDIR/farm.json and, when
the comparison ran, OUTDIR/compare.json).

Every figure in the report is computed here from those files, and the verdict on each target
too; the only fixed numbers are the targets themselves. A target that does not hold is explained
with figures of the same run, and points to docs/PROFILING.md for what profiling by hand found
once: those findings are not restated as if this run had measured them.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import compare
import farm
import plot
from common import log, median, read_json

PROFILING = "[PROFILING.md](PROFILING.md)"
# The targets: thresholds used by both the verdict and its wording.
MIN_PROBES_PER_S = 2000
MAX_CPU_MS = 0.5
SESSIONS, MAX_SESSIONS_MB = 10000, 256
FLAT_FROM, FLAT_TO, FLAT_SLACK = 10000, 100000, 1.10
ANSIBLE_X, OPENSSH_X = 10, 3
LABELS = {
    "prober": "prober",
    "ansible": "Ansible (`ansible -m ping`)",
    "openssh": "OpenSSH client (`xargs -P ssh`)",
}


@dataclass
class Target:
    name: str
    measured: str
    holds: bool
    why: str = ""  # shown when it does not hold


def short(tool):
    return LABELS[tool].split(" (")[0]


def na(value, digits=2):
    return "n/a" if value is None else f"{value:.{digits}f}"


def times(value):
    return "n/a" if value is None else f"{value:.1f}×"


# --- targets ------------------------------------------------------------------------------------


def farm_targets(data, s, cpus):
    """The targets judged on the farm, each with its explanation from this run's figures."""
    best, tp, cpu, farm_cpu = s["best"], s["throughput"], s["cpu"], s["farm_cpu"]
    busy = (cpu[best] + farm_cpu[best]) / 1000 * tp[best] / cpus
    where = f"Where the prober's CPU goes was profiled by hand once, outside this run: see {PROFILING}."
    slow = (
        f"At concurrency {best:,} the prober used {cpu[best]:.3f} ms of CPU per probe and the farm"
        f" {farm_cpu[best]:.3f} ms, on the same {cpus} CPUs: at {tp[best]:,.0f} probes/s that is"
        f" {100 * busy:.0f}% of the machine's CPU time. {where}"
    )
    lowest = min(cpu, key=cpu.get)
    costly = (
        f"The lowest median of this run was {cpu[lowest]:.3f} ms at concurrency {lowest:,}, and"
        f" {cpu[max(cpu, key=cpu.get)]:.3f} ms the highest. {where}"
    )
    targets = [
        Target(f"≥ {MIN_PROBES_PER_S:,} full admin probes/s against the farm",
               f"{tp[best]:,.0f}/s (concurrency {best:,})", tp[best] >= MIN_PROBES_PER_S, slow),
        Target(f"≤ {MAX_CPU_MS} ms client CPU per probe",
               f"{cpu[best]:.3f} ms at concurrency {best:,}; lowest {min(cpu.values()):.3f} ms",
               cpu[best] <= MAX_CPU_MS, costly),
        sessions_target(s),
    ]
    flat = flat_target(s)
    if flat:
        targets.append(flat)
    targets.append(match_target(data))
    return targets


def sessions_target(s):
    rss, least, most, in_flight = s["rss"], s["least"], s["most"], s["in_flight"]
    why = (
        f"Peak RSS grew by about {s['kb_per_session']:.0f} KB per extra probe in flight, from"
        f" {rss[least]:.0f} MB at concurrency {least:,} to {rss[most]:.0f} MB with {in_flight:,} in flight;"
        f" the largest concurrency measured under {MAX_SESSIONS_MB} MB was"
        f" {'none' if s['largest_fit'] is None else format(s['largest_fit'], ',')}."
    )
    if in_flight < SESSIONS:
        why += f" This run had at most {in_flight:,} probes in flight, so it cannot show {SESSIONS:,}."
    why += f" What the memory per session is was found by heaptrack, outside this run: see {PROFILING}."
    return Target(f"{SESSIONS:,} concurrent sessions under {MAX_SESSIONS_MB} MB peak RSS",
                  f"{rss[most]:.0f} MB with {in_flight:,} probes in flight",
                  in_flight >= SESSIONS and rss[most] < MAX_SESSIONS_MB, why)


def flat_target(s):
    """Only when the run reached both sizes."""
    rss_at = s["rss_at"]
    if FLAT_FROM not in rss_at or FLAT_TO not in rss_at:
        return None
    small, large = rss_at[FLAT_FROM], rss_at[FLAT_TO]
    per_asset = (large - small) * 1024 * 1024 / (FLAT_TO - FLAT_FROM)
    why = (
        f"Peak RSS grew by about {per_asset:.0f} bytes per extra asset between {FLAT_FROM:,} and"
        f" {FLAT_TO:,} assets. What that memory holds was found by profiling outside this run: see"
        f" {PROFILING}."
    )
    return Target(f"memory flat from {FLAT_FROM:,} to {FLAT_TO:,} assets",
                  f"{small:.0f} MB → {large:.0f} MB ({large / small:.2f}×)", large <= small * FLAT_SLACK, why)


def match_target(data):
    runs = data["scale"] + data["sweep"]
    off = [r for r in runs if r["matching"] != r["assets"]]
    why = "; ".join(f"{r['name']}: {r['matching']:,} of {r['assets']:,}" for r in off)
    why += " matched (the results are in the raw directory, raw/NAME.csv, next to raw/mix-N.expected.csv)."
    return Target("100% of results match the farm's expected categories",
                  f"{len(runs) - len(off)} of {len(runs)} runs at 100%", not off, why)


def compare_targets(data, c, cpus):
    """The wall-time targets against Ansible and the OpenSSH client."""
    m, r = c["medians"], c["ratios"]
    assets = data["settings"]["assets"]
    share, busy = server_share(m, cpus)

    def why(tool):
        text = (
            f"Per asset, {short(tool)} used {per_asset(m[tool]['cpu_s'], assets)} ms of client CPU and"
            f" {per_asset(m[tool]['server_cpu_s'], assets)} ms of server CPU, the prober"
            f" {per_asset(m['prober']['cpu_s'], assets)} ms and {per_asset(m['prober']['server_cpu_s'], assets)} ms."
        )
        if share is not None:
            text += (
                f" In the prober's runs the fixtures' servers used {100 * share:.0f}% of the client +"
                f" server CPU, and the machine's {cpus} CPUs were {100 * busy:.0f}% busy."
            )
        return text + f" What profiling found about the fixtures' cost per connection: see {PROFILING}."

    return [
        Target(f"≥ {ANSIBLE_X}× Ansible's wall time on the OpenSSH fixtures", times(r["ansible"]["wall"]),
               (r["ansible"]["wall"] or 0) >= ANSIBLE_X, why("ansible")),
        Target(f"≥ {OPENSSH_X}× the OpenSSH client's wall time on the OpenSSH fixtures",
               times(r["openssh"]["wall"]),
               (r["openssh"]["wall"] or 0) >= OPENSSH_X, why("openssh")),
    ]


def per_asset(seconds, assets):
    return "n/a" if seconds is None else f"{1000 * seconds / assets:.1f}"


def server_share(medians, cpus):
    """The servers' share of client + server CPU in the prober's runs, and how busy the machine
    was over them; (None, None) without the containers' CPU."""
    p = medians["prober"]
    if p["server_cpu_s"] is None or not p["window_s"]:
        return None, None
    share = p["server_cpu_s"] / (p["server_cpu_s"] + p["cpu_s"])
    return share, p["host_busy_s"] / (p["window_s"] * cpus)


# --- sections -----------------------------------------------------------------------------------


def header(host, notes):
    commit = f"`{host['commit']}`" + (" with uncommitted changes" if host["uncommitted_changes"] else "")
    w = notes.append
    w("# Benchmarks\n")
    w(f"Written by `scripts/bench.sh` from a run started on {host['measured_at']}, measuring commit {commit}."
      " Every figure below was measured in that run; run the script again to reproduce them (it builds"
      " the release binary, starts the farm and the compose fixtures itself, and sends traffic only to"
      " loopback and the fixtures' containers).\n")


def machine_section(host, comparison, notes):
    w = notes.append
    w("## Machine\n")
    w(f"- {host['cpus']} CPUs ({host['cpu_model']}), {host['memory']} RAM, Linux {host['kernel']}, {host['os']}")
    w(f"- {host['rustc']}; {host['prober']}, release build; Python {host['python']}")
    if comparison:
        v = comparison["versions"]
        w(f"- {v['ansible_core']} from PyPI; client {v['openssh_client']};"
          f" fixtures' openssh-server {v['openssh_server']}")
    w("- The farm, the prober and the fixture containers all run on these CPUs at once.\n")


def targets_section(targets, notes):
    w = notes.append
    w("## Targets\n")
    w("| target | measured | verdict |")
    w("|---|---|---|")
    for t in targets:
        w(f"| {t.name} | {t.measured} | {'holds' if t.holds else '**does not hold**'} |")
    w("")
    misses = [t for t in targets if not t.holds]
    if misses:
        w("The targets that do not hold, with what this run measured about them:\n")
        for t in misses:
            w(f"- **{t.name}**: {t.why}")
        w("")


def notrack_text(outdir):
    """bench.sh records whether the farm's addresses were exempted from connection tracking."""
    path = Path(outdir, "notrack.txt")
    text = path.read_text().strip() if path.exists() else "unknown"
    if text.startswith("applied "):
        return (f"off ({text.split()[1]}) while the farm ran: bench.sh exempts these addresses from the"
                " host firewall's conntrack, which otherwise fills at this connection rate and drops new"
                " connections")
    return text


def sweep_section(data, s, outdir, svg_link, notes):
    w = notes.append
    kex = ", ".join(f"`{k}`" for k in s["kex"]) or "unknown"
    w("## Farm: throughput against concurrency\n")
    w(f"`prober farm --assets {s['assets']} --mix ok=1` serves healthy virtual assets on loopback (one"
      " address each, one port, real SSH with russh); every probe is a full admin probe: TCP, banner,"
      " key exchange, host key checked and learned into a fresh known_hosts (accept-new), public-key"
      f" login, and the inspection exec (uid, sudo, python, temp dir, facts). Key exchange negotiated: {kex}."
      f" Medians of {rounds(data['sweep'])} round(s); the rounds run the settings interleaved."
      f" Connection tracking for the farm's addresses: {notrack_text(outdir)}.\n")
    w(f"![throughput against concurrency]({svg_link})\n")
    if data.get("rss_floor_mb"):
        w(f"Peak RSS is never below the measuring process's own, {data['rss_floor_mb']:.0f} MB in this run"
          " (Linux carries the high-water mark across exec), so figures near it say only \"at most that\".\n")
    w("| --concurrency | probes/s | client CPU ms/probe | farm CPU ms/probe | peak RSS MB |")
    w("|---:|---:|---:|---:|---:|")
    for c in s["throughput"]:
        w(f"| {c:,} | {s['throughput'][c]:,.0f} | {s['cpu'][c]:.3f} | {s['farm_cpu'][c]:.3f} | {s['rss'][c]:.0f} |")
    w("")


def rounds(runs):
    return len({r["name"].rsplit("-r", 1)[1] for r in runs})


def scale_section(data, s, notes):
    w = notes.append
    w("## Farm: scale, and whether every asset gets its category\n")
    w(f"The default mix (`{data['mix']}`) at `--concurrency {data['default_concurrency']}`, with"
      f" `--banner-timeout {data['banner_timeout']}` so the silent assets end sooner. Wall time includes"
      " that timeout for the silent ones.\n")
    w("| assets | runs | wall s | probes/s | client CPU ms/probe | peak RSS MB | matching expected |")
    w("|---:|---:|---:|---:|---:|---:|---:|")
    for n, runs in s["sizes"].items():
        w(f"| {n:,} | {len(runs)} | {median(r['wall_s'] for r in runs):.2f} | "
          f"{median(r['probes_per_s'] for r in runs):,.0f} | {median(r['cpu_ms_per_probe'] for r in runs):.3f} | "
          f"{median(r['max_rss_mb'] for r in runs):.0f} | {min(r['match_pct'] for r in runs):.2f}% |")
    w("")
    w("Commands (paths shortened):\n")
    w("```sh")
    w(f"prober farm --assets N --mix '{data['mix']}' --output mix-N.csv")
    w(data["scale"][0]["argv"])
    w("```\n")


def compare_section(data, c, cpus, notes):
    """The side-by-side comparison: medians, ratios, every round, and how it was run."""
    st, m, r = data["settings"], c["medians"], c["ratios"]
    assets, hosts = st["assets"], st["hosts"]
    w = notes.append
    w("## OpenSSH fixtures: prober, Ansible and the OpenSSH client\n")
    w(f"{assets} assets: {len(hosts)} compose fixture hosts, each listed {st['copies']} times under unique"
      f" names. Every tool runs {st['parallel']}-way parallel, makes one fresh SSH connection per asset and"
      f" must find every asset healthy. {st['rounds']} round(s) with the tools interleaved in rotating order,"
      " after one unmeasured warm-up run each; medians. Client CPU: the tool and every process it waited"
      " for (user + sys, from `wait4`). Server CPU: the hosts' containers (cgroup accounting) and their"
      " fuse-overlayfs storage daemons, less what they use idle (the compose health checks).\n")
    w("| tool | assets | median wall s | probes/s | median client CPU s | median server CPU s | wall vs prober | client CPU vs prober |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tool in compare.TOOLS:
        t = m[tool]
        rw = "1.0×" if tool == "prober" else times(r[tool]["wall"])
        rc = "1.0×" if tool == "prober" else times(r[tool]["client_cpu"])
        w(f"| {LABELS[tool]} | {assets} | {na(t['wall_s'])} | {t['probes_per_s']:.1f} | {na(t['cpu_s'])} |"
          f" {na(t['server_cpu_s'])} | {rw} | {rc} |")
    w("")
    w(f"- Client CPU: Ansible / prober = {times(r['ansible']['client_cpu'])}, OpenSSH / prober ="
      f" {times(r['openssh']['client_cpu'])}. Server CPU: Ansible / prober = {times(r['ansible']['server_cpu'])},"
      f" OpenSSH / prober = {times(r['openssh']['server_cpu'])}.")
    w("- CPU per asset: " + "; ".join(
        f"{short(t)} {per_asset(m[t]['cpu_s'], assets)} ms client +"
        f" {per_asset(m[t]['server_cpu_s'], assets)} ms server"
        for t in compare.TOOLS) + ".")
    share, busy = server_share(m, cpus)
    if share is not None:
        w(f"- In the prober's runs the servers used {100 * share:.0f}% of the client + server CPU, and the"
          f" machine's {cpus} CPUs were {100 * busy:.0f}% busy (over the run and a pause after it;"
          f" {na(m['prober']['other_cpu_s'], 1)} CPU-s went to everything else: Docker, the other fixtures,"
          " other work on the machine). The fixtures share the CPUs with the clients, so where they are"
          " saturated the wall time measures the servers as much as the tools.")
    w("")
    rounds_table(data, notes)
    method(data, notes)


def rounds_table(data, notes):
    w = notes.append
    w("Per round (wall s / client CPU s / server CPU s / other CPU s on the machine):\n")
    w("| round | order | " + " | ".join(short(t) for t in compare.TOOLS) + " |")
    w("|---:|---|" + "---|" * len(compare.TOOLS))
    for i in range(data["settings"]["rounds"]):
        runs = {t: data["runs"][t][i] for t in compare.TOOLS}
        cells = [f"{runs[t]['wall_s']:.2f} / {runs[t]['cpu_s']:.2f} / {na(runs[t]['server_cpu_s'])} /"
                 f" {na(runs[t]['other_cpu_s'], 1)}" for t in compare.TOOLS]
        w(f"| {i + 1} | {', '.join(compare.order(i + 1))} | " + " | ".join(cells) + " |")
    w("")


def method(data, notes):
    """Hosts, what each tool checks, commands, versions: what it takes to reproduce the run."""
    st, v, mach, idle = data["settings"], data["versions"], data["machine"], data["idle_server_side_cpu_per_s"]
    w = notes.append
    w("Hosts (user `admin` with the key shown; NOPASSWD sudo and python3 on each; addresses from"
      f" `fixtures/inventory.csv` and `fixtures/credentials.toml`), each listed {st['copies']} times as"
      f" NAME-1 ... NAME-{st['copies']}:\n")
    w(", ".join(f"{h['name']} {h['ip']} (`{h['key']}`)" for h in st["hosts"]) + ".\n")
    w("What each tool checks per asset:\n")
    w("- prober: TCP, SSH banner, key exchange, admin's key login, then one exec of its inspection"
      " script (uid, `sudo -n`, python, a writable temp dir, facts); host key check off.")
    w("- Ansible: the `ping` module, pipelined over the one connection: login, then python3 runs the"
      " module (no sudo check).")
    w(f"- OpenSSH client: login, then `{compare.REMOTE_CMD}`.\n")
    kex = data["key_exchange"]
    w(f"Key exchange negotiated: prober `{kex['prober']}`; OpenSSH client (and Ansible, which runs it)"
      f" `{kex['openssh_client']}`. The assets are spread over {len(st['hosts'])} hosts, listed host by host,"
      " because sshd's MaxStartups drops new connections at random once too many are unauthenticated,"
      f" and neither Ansible nor xargs limits connections per host: {st['parallel']} workers keep about"
      f" {st['parallel'] / len(st['hosts']):.0f} connections on each host.\n")
    w("Commands (`ROOT` = the checkout, `WORK` = the generated inventories and ssh_config, `VENV` = the"
      " throwaway virtualenv; run from `WORK`, stdin /dev/null unless redirected):\n")
    w("```sh")
    w("\n".join(data["commands"][t] for t in compare.TOOLS))
    w("```\n")
    w(f"Versions: {v['prober']}; {v['ansible_core']} (from PyPI, in a throwaway virtualenv); client"
      f" {v['openssh_client']}; fixtures' openssh-server {v['openssh_server']}. Load average"
      f" {mach['loadavg_before']} before the rounds and {mach['loadavg_after']} after. Idle, the"
      f" {len(st['hosts'])} hosts' containers used {na(idle['containers'], 3)} CPU-s/s and their"
      f" fuse-overlayfs daemons ({data['fuse_overlayfs_daemons']}) {na(idle['fuse_overlayfs'], 3)} CPU-s/s,"
      f" measured over {idle['measured_over_s']:.0f} s.\n")


# --- the report ---------------------------------------------------------------------------------


def write_plot(data, s, cpus, svg):
    series = {}
    for entry in data["sweep"]:
        series.setdefault(entry["name"].rsplit("-", 1)[1], []).append((entry["concurrency"], entry["probes_per_s"]))
    options = plot.Options(
        title=f"prober check against the farm ({s['assets']:,} healthy assets, {cpus} CPUs)",
        xlabel="--concurrency (probes in flight)", ylabel="full admin probes per second",
        legend_title="round", logx=True,
    )
    Path(svg).write_text(plot.line_plot(list(series.items()), options), encoding="utf-8")


def hot_paths_section(outdir, notes):
    """The micro-benchmarks' own table, as divan printed it in this run."""
    path = Path(outdir, "hot_paths.txt")
    if not path.exists():
        return
    table = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.startswith(("hot_paths", "├─", "╰─", "Timer precision"))]
    notes.append("## Hot paths (micro-benchmarks)\n")
    notes.append("`cargo bench -p prober-engine --bench hot_paths` (engine/benches/hot_paths.rs, divan), in this"
                 " run: known_hosts with 100,000 entries (load, one check, learning all of them), reading an"
                 " inventory of 100,000 rows, parsing one inspection's output.\n")
    notes.append("```\n" + "\n".join(table) + "\n```\n")


def write(outdir, out, svg):
    """Writes the report and the plot from OUTDIR's raw results."""
    data = read_json(Path(outdir, "farm.json"))
    compare_path = Path(outdir, "compare.json")
    comparison = read_json(compare_path) if compare_path.exists() else None
    host = data["machine"]
    cpus = host["cpus"] or 1
    s = farm.summary(data)
    c = compare.summary(comparison) if comparison else None
    targets = farm_targets(data, s, cpus) + (compare_targets(comparison, c, cpus) if c else [])

    for path in (out, svg):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_plot(data, s, cpus, svg)
    notes = []
    header(host, notes)
    machine_section(host, comparison, notes)
    targets_section(targets, notes)
    sweep_section(data, s, outdir, os.path.relpath(svg, os.path.dirname(os.path.abspath(out))), notes)
    scale_section(data, s, notes)
    if comparison:
        compare_section(comparison, c, cpus, notes)
    hot_paths_section(outdir, notes)
    notes.append("## Profiling\n")
    notes.append(f"What perf, heaptrack and strace found about where the prober's CPU and memory go, and what"
                 f" was changed from it, is in {PROFILING}: measured by hand once, not by this run.\n")
    Path(out).write_text("\n".join(notes), encoding="utf-8")
    log("report", f"wrote {out} and {svg}")
