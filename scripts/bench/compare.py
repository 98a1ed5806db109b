"""Side by side on the compose OpenSSH fixtures: the prober vs `ansible -m ping` vs the OpenSSH
client through `xargs -P`, each equally parallel and making one fresh SSH connection per asset,
interleaved over several rounds. Wall time and client CPU (the tool and every process it waits
for) come from measure.run; the fixture containers' CPU from their cgroups, and that of their
fuse-overlayfs storage daemons from /proc.

Writes OUTDIR/compare.json (every measurement, the settings, versions, commands as run) and
OUTDIR/work/ (generated inventories, ssh_config, credentials), OUTDIR/raw/ (every run's
measurement, output and errors). Brings the fixtures up with scripts/fixtures-up.sh when they
are not running, and takes them down again at the end. Traffic goes only to the fixture
containers (172.29.77.0/24); pip reaches PyPI for Ansible, in a virtualenv removed at the end.
"""

import contextlib
import ipaddress
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

import measure
from common import (
    CLOCK_TICKS, FIXTURES, ROOT, BenchError, binary_version, first_line, loadavg, log, machine,
    median, output, read_csv, write_json,
)

TOOLS = ("prober", "ansible", "openssh")
LAB = ipaddress.ip_network("172.29.77.0/24")
# The hosts on which admin logs in with its key, has NOPASSWD sudo and python3 (no password is
# used anywhere, so no sshpass): name (a row of fixtures/inventory.csv, or a jump host of
# fixtures/credentials.toml, which has none) and key file in fixtures/generated/. Besides the
# healthy fixtures, the others fail in ways outside what is checked here (the inventory's stale
# password, the server refusing passwords, a changed host key with checking off, forwarding,
# push prerequisites): for admin's key they are healthy. Spreading the load over a dozen sshds
# keeps each under sshd's MaxStartups (10:30:100: past 10 unauthenticated connections sshd drops
# new ones at random), which 50 clients on one or two hosts exceed; Ansible and xargs have no
# per-host limit. healthy-root logs in with a password, so it is left out.
DEFAULT_HOSTS = (
    "healthy-sudo:admin_ed25519 healthy-rsa:admin_rsa wrong-password:admin_ed25519"
    " pubkey-only:admin_ed25519 hostkey-changed:admin_ed25519 jump:admin_ed25519"
    " jump-noforward:admin_ed25519 system-users:admin_ed25519 prepush-no-include:admin_ed25519"
    " prepush-no-visudo:admin_ed25519 prepush-uid-taken:admin_ed25519"
    " prepush-home-taken:admin_ed25519"
)
REMOTE_CMD = "id -u && sudo -n true && command -v python3"
# The OpenSSH client as every tool here runs it: no user or system ssh_config, no known_hosts.
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "ConnectTimeout=10")


@dataclass(frozen=True)
class Host:
    name: str
    ip: str
    key: str  # absolute path


@dataclass
class Settings:
    """What a comparison runs: the hosts, how often each is listed, and the tools' options."""

    hosts: list
    copies: int
    rounds: int
    parallel: int
    per_host: int | None
    prober_args: list
    ansible_spec: str
    idle_seconds: float

    @property
    def assets(self):
        return len(self.hosts) * self.copies


# --- the hosts, from the fixtures' own files ---------------------------------------------------


def fixture_addresses():
    """Name -> address of every fixture: the rows of fixtures/inventory.csv, and the jump hosts
    in the [gateways] table of fixtures/credentials.toml (they have no inventory row)."""
    with open(FIXTURES / "credentials.toml", "rb") as handle:
        gateways = tomllib.load(handle).get("gateways", {})
    addresses = {name: entry["host"] for name, entry in gateways.items() if "host" in entry}
    addresses.update((row["name"], row["host"]) for row in read_csv(FIXTURES / "inventory.csv"))
    return addresses


def fixture_hosts(spec):
    """Hosts from "name:keyfile ..." with each address looked up by name; only addresses on
    the fixture network are allowed."""
    addresses = fixture_addresses()
    hosts = []
    for item in spec.split():
        name, _, key = item.partition(":")
        if not name or not key or name not in addresses:
            raise BenchError(f"bad host {item!r}: want NAME:KEYFILE with NAME a fixture")
        try:
            ip = ipaddress.ip_address(addresses[name])
        except ValueError:
            ip = None
        if ip is None or ip not in LAB:
            raise BenchError(f"{name} is at {addresses[name]}, not on the fixture network {LAB}")
        hosts.append(Host(name, str(ip), str(FIXTURES / "generated" / key)))
    if not hosts:
        raise BenchError("no hosts to probe")
    if len({h.ip for h in hosts}) != len(hosts):
        raise BenchError("two hosts share an address (the ssh_config keys hosts by address)")
    return hosts


# --- the fixtures and Ansible, set up for the run and removed after it -------------------------


def lab_containers():
    """docker inspect of the running containers, keyed by their address on the fixture network."""
    ids = output(["docker", "ps", "-q"]).split()
    if not ids:
        return {}
    found = {}
    for container in json.loads(output(["docker", "inspect", *ids]) or "[]"):
        for net in (container.get("NetworkSettings") or {}).get("Networks", {}).values():
            address = net.get("IPAddress")
            if address and ipaddress.ip_address(address) in LAB:
                found[address] = container
    return found


@contextlib.contextmanager
def fixtures(hosts):
    """The hosts' containers (address -> docker inspect); started with fixtures-up.sh and taken
    down again with fixtures-down.sh when they were not all running."""
    containers = lab_containers()
    started = not all(h.ip in containers for h in hosts)
    try:
        if started:
            log("compare", "fixtures not up: starting them with scripts/fixtures-up.sh")
            subprocess.run([ROOT / "scripts/fixtures-up.sh"], check=True)
            containers = lab_containers()
        else:
            log("compare", "fixtures already up; leaving them up")
        missing = [h.name for h in hosts if h.ip not in containers]
        if missing:
            raise BenchError(f"no running container for {', '.join(missing)}")
        yield {h.ip: containers[h.ip] for h in hosts}
    finally:
        if started:
            log("compare", "taking the fixtures down (this run brought them up)")
            if subprocess.run([ROOT / "scripts/fixtures-down.sh"], check=False).returncode:
                log("compare", "fixtures-down.sh failed")


@contextlib.contextmanager
def ansible(spec):
    """ansible-core from PyPI in a throwaway virtualenv: yields (ansible path, its directory)."""
    tmp = Path(tempfile.mkdtemp(prefix="prober-bench-ansible."))
    try:
        venv = tmp / "venv"
        if subprocess.run(["python3", "-m", "venv", venv], capture_output=True, check=False).returncode:
            if os.getuid() != 0 or not os.path.exists("/etc/debian_version"):
                raise BenchError("python3 -m venv failed (install python3-venv)")
            log("compare", "installing python3-venv")
            subprocess.run(["apt-get", "install", "-y", "-qq", "python3-venv"], check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(["python3", "-m", "venv", venv], check=True)
        log("compare", f"installing {spec} into a throwaway virtualenv")
        subprocess.run([venv / "bin/pip", "install", "--quiet", "--disable-pip-version-check", spec], check=True)
        yield venv / "bin/ansible", tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- CPU outside the client ---------------------------------------------------------------------


def _cgroup_usage_us(container_id):
    """CPU microseconds a container has used (cgroup v1 or v2), or None where not readable."""
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage",
                 f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}/cpuacct.usage"):
        with contextlib.suppress(OSError):
            return int(Path(path).read_text()) // 1000
    for path in (f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat",
                 f"/sys/fs/cgroup/docker/{container_id}/cpu.stat"):
        with contextlib.suppress(OSError):
            for line in Path(path).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value)
    return None


def _fuse_daemons(containers):
    """With Docker's fuse-overlayfs storage driver every file access in a container goes through
    a fuse-overlayfs daemon on the host, outside the container's cgroup: server-side work too.
    One daemon per container, found by the container's merged directory on its command line."""
    merged = {(c.get("GraphDriver") or {}).get("Data", {}).get("MergedDir") for c in containers}
    merged.discard(None)
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if Path(f"/proc/{entry}/comm").read_text().strip() != "fuse-overlayfs":
                continue
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace").split("\0")
            if merged.intersection(argv):
                pids.append(entry)
    return pids


def _ticks(pid):
    """utime + stime of a process in clock ticks (0 once it is gone)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return 0


def _machine_busy_ticks():
    """Busy CPU time of the whole machine: everything in /proc/stat's cpu line but idle and iowait."""
    with open("/proc/stat", encoding="utf-8") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    return sum(fields[:3]) + sum(fields[5:8])


class Counters:
    """CPU used outside the client: the hosts' containers, their fuse-overlayfs daemons, and the
    whole machine, read before and after each run."""

    def __init__(self, containers):
        self.ids = [c["Id"] for c in containers]
        self.fuse = _fuse_daemons(containers)

    def read(self):
        usages = [_cgroup_usage_us(i) for i in self.ids]
        return {
            "containers_s": None if None in usages else sum(usages) / 1e6,
            "fuse_s": sum(_ticks(p) for p in self.fuse) / CLOCK_TICKS,
            "busy_s": _machine_busy_ticks() / CLOCK_TICKS,
            "time_s": time.monotonic(),
        }


def delta(before, after, key):
    if before[key] is None or after[key] is None:
        return None
    return after[key] - before[key]


def idle_rates(counters, seconds):
    """What the hosts' containers and fuse-overlayfs daemons use while nobody connects (the
    compose health checks connect to every sshd every few seconds), in CPU-s per second."""
    before = counters.read()
    time.sleep(seconds)
    after = counters.read()
    window = after["time_s"] - before["time_s"]
    containers = delta(before, after, "containers_s")
    return {
        "containers": None if containers is None else round(containers / window, 6),
        "fuse_overlayfs": round(delta(before, after, "fuse_s") / window, 6),
        "measured_over_s": round(window, 3),
    }


def server_side(measured, before, after, idle):
    """Adds the CPU used outside the client over the run and the pause after it."""
    window = after["time_s"] - before["time_s"]
    containers = delta(before, after, "containers_s")
    fuse = delta(before, after, "fuse_s")
    busy = delta(before, after, "busy_s")
    measured["window_s"] = round(window, 3)
    measured["containers_cpu_s"] = None if containers is None else round(containers, 3)
    measured["fuse_overlayfs_cpu_s"] = round(fuse, 3)
    measured["host_busy_s"] = round(busy, 3)
    if containers is None or idle["containers"] is None:
        measured["server_cpu_s"] = measured["other_cpu_s"] = None
        return
    # Server side: containers and their daemons, less what they use idle over the same window.
    idle_total = (idle["containers"] + idle["fuse_overlayfs"]) * window
    measured["server_cpu_s"] = round(containers + fuse - idle_total, 3)
    # Everything else the machine did meanwhile: Docker, the other fixtures, other work.
    measured["other_cpu_s"] = round(busy - measured["cpu_s"] - containers - fuse, 3)


# --- inventories and commands -------------------------------------------------------------------


class Bench:
    """The generated files and the three tools' commands for one comparison."""

    def __init__(self, settings, work, prober, ansible_bin, ansible_dir):
        self.settings = settings
        self.work = work
        self.prober = prober
        self.ansible = ansible_bin
        self.ansible_dir = ansible_dir
        self.credentials = work / "credentials.toml"
        self.ssh_config = work / "ssh_config"
        self._write_credentials()
        self._write_ssh_config()

    @staticmethod
    def credential(host):
        return "bench-" + os.path.basename(host.key)

    def _write_credentials(self):
        """admin with each key the hosts use, for the prober."""
        lines = ["# admin with each key the benchmark hosts use (absolute paths)."]
        for key in sorted({h.key for h in self.settings.hosts}):
            name = "bench-" + os.path.basename(key)
            lines += [f"[credentials.{name}]", 'username = "admin"', f'key = "{key}"', ""]
        self.credentials.write_text("\n".join(lines))

    def _write_ssh_config(self):
        """The OpenSSH client's (and Ansible's) key per host; -F also keeps the user's and the
        system's ssh_config out of the measurement."""
        text = "".join(f"Host {h.ip}\n  IdentityFile {h.key}\n  IdentitiesOnly yes\n\n" for h in self.settings.hosts)
        self.ssh_config.write_text(text)
        self.ssh_config.chmod(0o600)

    def write_inventories(self, copies, directory):
        """inventory.csv (prober), inventory.ini (Ansible) and targets.txt (xargs) in directory.
        Every tool sees the assets in the same order, host by host within each copy
        (healthy-sudo-1, healthy-rsa-1, ..., healthy-sudo-2, ...), so the parallel workers
        spread evenly over the hosts. Names are unique: Ansible merges identical names."""
        directory.mkdir(parents=True, exist_ok=True)
        assets = [(f"{h.name}-{c}", h) for c in range(1, copies + 1) for h in self.settings.hosts]
        csv_lines = ["name,host,port,admin_user"]
        csv_lines += [f"{name},{h.ip},22,{self.credential(h)}" for name, h in assets]
        ini_lines = ["[bench]"]
        ini_lines += [f"{name} ansible_host={h.ip} ansible_ssh_private_key_file={h.key}" for name, h in assets]
        ini_lines += ["", "[all:vars]", "ansible_user=admin", "ansible_python_interpreter=/usr/bin/python3"]
        (directory / "inventory.csv").write_text("\n".join(csv_lines) + "\n")
        (directory / "inventory.ini").write_text("\n".join(ini_lines) + "\n")
        (directory / "targets.txt").write_text("".join(f"{h.ip}\n" for _, h in assets))
        return directory, len(assets)

    def command(self, tool, inventories, results):
        """(argv, stdin file) of a tool probing the inventories in the directory given."""
        if tool == "prober":
            argv = [self.prober, "check", inventories / "inventory.csv", "--credentials", self.credentials,
                    "--concurrency", str(self.settings.parallel)]
            if self.settings.per_host:
                argv += ["--per-host", str(self.settings.per_host)]
            argv += ["--host-key-check", "off", "--format", "csv", "-o", results, "--quiet", *self.settings.prober_args]
            return [str(a) for a in argv], None
        if tool == "ansible":
            return [str(a) for a in self._ansible(inventories)], None
        # The checks joined with && so that any failing one fails the asset (and xargs exits
        # 123). The addresses come on stdin, so GNU xargs gives each ssh /dev/null as stdin.
        argv = ["xargs", "-P", str(self.settings.parallel), "-I", "{}",
                "ssh", "-F", str(self.ssh_config), *SSH_OPTIONS, "admin@{}", REMOTE_CMD]
        return argv, inventories / "targets.txt"

    def _ansible(self, inventories):
        """ControlMaster=no: Ansible's default ControlMaster=auto/ControlPersist=60s would let
        the copies of one address share a master connection (fewer than one SSH connection per
        asset), and the master daemonizes: its CPU escapes the wait4 accounting and it lingers
        into the next tool's run. Pipelining: the ping module goes over the one connection's
        stdin; without it Ansible makes three connections per host (mkdir, sftp put, run).
        ANSIBLE_HOME/LOCAL_TEMP keep ~/.ansible untouched; it runs in WORK so no ansible.cfg is
        read."""
        return ["env",
                f"ANSIBLE_HOME={self.ansible_dir}/home",
                f"ANSIBLE_LOCAL_TEMP={self.ansible_dir}/tmp",
                "ANSIBLE_HOST_KEY_CHECKING=False",
                f"ANSIBLE_SSH_ARGS=-F {self.ssh_config} -o ControlMaster=no -o UserKnownHostsFile=/dev/null",
                "ANSIBLE_PIPELINING=True",
                "ANSIBLE_RETRY_FILES_ENABLED=False",
                "ANSIBLE_TIMEOUT=10",
                "ANSIBLE_DEPRECATION_WARNINGS=False",
                self.ansible, "all", "-i", inventories / "inventory.ini", "-m", "ping",
                "-f", str(self.settings.parallel)]

    def shown(self, tool):
        """A command as run, with the long directories named WORK, VENV and ROOT."""
        argv, stdin = self.command(tool, self.work, self.work / "prober-results.csv")
        text = shlex.join(argv) + (" <WORK/targets.txt" if stdin else "")
        for path, name in ((self.work, "WORK"), (self.ansible_dir, "VENV"), (ROOT, "ROOT")):
            text = text.replace(str(path), name)
        return text


# --- running and checking -----------------------------------------------------------------------


def passed(tool, prefix):
    """How many assets a run found healthy, from the tool's own output."""
    if tool == "prober":
        rows = read_csv(f"{prefix}.csv")
        bad = [f"{r['name']}={r['category']}" for r in rows if r["category"] != "ok"]
        if bad:
            log("compare", f"prober: not ok: {', '.join(bad[:5])}")
        return len(rows) - len(bad)
    lines = Path(f"{prefix}.out").read_text(errors="replace").splitlines()
    if tool == "ansible":
        return sum(" | SUCCESS" in line for line in lines)
    return sum(line == "/usr/bin/python3" for line in lines)


def run_tool(bench, tool, inventories, expected, prefix, counters, idle):
    """One measured run of a tool, with the CPU counters around it; fails unless every asset
    passed."""
    argv, stdin = bench.command(tool, inventories, f"{prefix}.csv")
    before = counters.read()
    measured = measure.run(argv, f"{prefix}.json", stdin=stdin, stdout=f"{prefix}.out", stderr=f"{prefix}.err",
                           cwd=bench.work)
    # Let the servers finish tearing down the sessions before reading their CPU.
    time.sleep(1)
    server_side(measured, before, counters.read(), idle)
    write_json(f"{prefix}.json", measured)
    ok = passed(tool, prefix)
    if ok != expected or measured["rc"] != 0:
        tail = Path(f"{prefix}.err").read_text(errors="replace").splitlines()[-5:]
        raise BenchError(f"{tool}: {ok} of {expected} assets passed (rc {measured['rc']}); see {prefix}.*\n"
                         + "\n".join(tail))
    return measured


def ssh(bench, host, command, verbose=False):
    """One OpenSSH client connection, as the benchmark's xargs makes them."""
    argv = ["ssh", *(["-v"] if verbose else []), "-F", str(bench.ssh_config), *SSH_OPTIONS,
            f"admin@{host.ip}", command]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)


def precheck(bench):
    """Every host passes the checks once before anything is measured; returns the key exchange
    the OpenSSH client negotiates with them (the prober's is in its results)."""
    for host in bench.settings.hosts:
        done = ssh(bench, host, REMOTE_CMD)
        if done.returncode:
            raise BenchError(f"{host.name} ({host.ip}) fails the checks: {done.stderr.strip()[-300:]}")
    match = re.search(r"kex: algorithm: (\S+)", ssh(bench, bench.settings.hosts[0], "true", verbose=True).stderr)
    return match.group(1) if match else "unknown"


def order(r):
    """The tools in the order round r runs them: rotated by one each round, so none always
    follows the same one."""
    return [TOOLS[(i + r - 1) % len(TOOLS)] for i in range(len(TOOLS))]


def rounds(bench, raw, counters, idle):
    """One unmeasured warm-up of each tool (page cache, Python bytecode, sshd's forks), then the
    measured rounds with the tools in rotating order."""
    log("compare", f"warm-up run of each tool ({len(bench.settings.hosts)} assets)")
    warmup, expected = bench.write_inventories(1, bench.work / "warmup")
    for tool in TOOLS:
        run_tool(bench, tool, warmup, expected, raw / f"warmup-{tool}", counters, idle)
    inventories, expected = bench.write_inventories(bench.settings.copies, bench.work)
    runs = {tool: [] for tool in TOOLS}
    for r in range(1, bench.settings.rounds + 1):
        log("compare", f"round {r}/{bench.settings.rounds}: {' '.join(order(r))}")
        for tool in order(r):
            m = run_tool(bench, tool, inventories, expected, raw / f"round-{r}-{tool}", counters, idle)
            m["round"] = r
            runs[tool].append(m)
            log("compare", f"  {tool}: wall {m['wall_s']:.2f} s, client CPU {m['cpu_s']:.2f} s,"
                f" server CPU {m['server_cpu_s']} s")
    return runs


def run(outdir, prober, settings):
    """The whole comparison; writes OUTDIR/compare.json."""
    outdir = Path(outdir).resolve()
    work, raw = outdir / "work", outdir / "raw" / "compare"
    for directory in (work, raw):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    for tool in ("ssh", "xargs", "docker"):
        if not shutil.which(tool):
            raise BenchError(f"{tool} is needed")
    # No agent: every tool offers exactly the key it is given.
    os.environ.pop("SSH_AUTH_SOCK", None)
    hosts = settings.hosts
    log("compare", f"hosts: {' '.join(f'{h.name}={h.ip}' for h in hosts)}")
    log("compare", f"{settings.assets} assets ({len(hosts)} hosts x {settings.copies} copies), "
        f"{settings.rounds} rounds, parallelism {settings.parallel}")
    # A copy of the binary is what runs, so a rebuild during the benchmark does not change it.
    shutil.copy2(prober, work / "prober")
    with fixtures(hosts) as containers, ansible(settings.ansible_spec) as (ansible_bin, ansible_dir):
        for key in {h.key for h in hosts}:
            if not os.path.isfile(key) or not os.path.getsize(key):
                raise BenchError(f"missing key {key} (scripts/fixtures-up.sh generates it)")
        bench = Bench(settings, work, work / "prober", ansible_bin, ansible_dir)
        kex = precheck(bench)
        counters = Counters(containers.values())
        log("compare", f"measuring the idle server-side CPU for {settings.idle_seconds:g} s")
        idle = idle_rates(counters, settings.idle_seconds)
        log("compare", f"idle: containers {idle['containers']} CPU-s/s,"
            f" fuse-overlayfs {idle['fuse_overlayfs']} CPU-s/s")
        load_before = loadavg()
        runs = rounds(bench, raw, counters, idle)
        load_after = loadavg()
        first = next(iter(containers.values()))["Id"]
        source = str(Path(prober).resolve()).replace(str(ROOT), "ROOT")
        versions = {
            "prober": f"{binary_version(bench.prober)}, copied from {source}",
            "ansible_core": first_line(output([str(ansible_bin), "--version"])),
            "openssh_client": output(["ssh", "-V"], stderr=True),
            "openssh_server": output(["docker", "exec", first, "dpkg-query", "-W", "-f", "${Version}",
                                      "openssh-server"]) or "unknown",
        }
        data = {
            "machine": {**machine(bench.prober), "loadavg_before": load_before, "loadavg_after": load_after},
            "settings": {**asdict(settings), "assets": settings.assets,
                         "hosts": [{**asdict(h), "key": os.path.basename(h.key)} for h in hosts]},
            "versions": versions,
            "commands": {tool: bench.shown(tool) for tool in TOOLS},
            "key_exchange": {"openssh_client": kex, "prober": prober_kex(raw / "round-1-prober.csv")},
            "idle_server_side_cpu_per_s": idle,
            "containers_found": len(counters.ids),
            "fuse_overlayfs_daemons": len(counters.fuse),
            "runs": runs,
        }
    write_json(outdir / "compare.json", data)
    log("compare", f"wrote {outdir}/compare.json")


def prober_kex(results):
    """The key exchanges the prober negotiated, from its results."""
    rows = read_csv(results)
    return ", ".join(sorted({row["kex"] for row in rows if row.get("kex")}))


def default_copies(hosts):
    """Enough copies of the hosts for about 200 assets."""
    return math.ceil(200 / len(hosts))


MEDIAN_KEYS = ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_kb", "server_cpu_s", "containers_cpu_s",
               "fuse_overlayfs_cpu_s", "host_busy_s", "other_cpu_s", "window_s")


def summary(data):
    """Medians over the rounds per tool, and each tool's ratio to the prober."""
    assets = data["settings"]["assets"]
    medians = {}
    for tool, runs in data["runs"].items():
        medians[tool] = {key: median(m.get(key) for m in runs) for key in MEDIAN_KEYS}
        medians[tool]["probes_per_s"] = assets / medians[tool]["wall_s"]

    def ratio(tool, key):
        a, b = medians[tool][key], medians["prober"][key]
        return a / b if a is not None and b else None

    ratios = {
        tool: {"wall": ratio(tool, "wall_s"), "client_cpu": ratio(tool, "cpu_s"),
               "server_cpu": ratio(tool, "server_cpu_s")}
        for tool in TOOLS
        if tool != "prober"
    }
    return {"medians": medians, "ratios": ratios}
