#!/usr/bin/env bash
# Benchmark, side by side on the compose OpenSSH fixtures: prober vs `ansible -m ping` vs the
# OpenSSH client through `xargs -P`, each 50-way parallel and making one fresh SSH connection per
# asset, interleaved over several rounds. Wall time and client CPU (the tool and every process it
# waits for) are measured by measure.py; the fixture containers' CPU is read from their cgroups.
#
#   scripts/bench/compare.sh OUTDIR [--rounds N] [--copies K]
#
#   --rounds N   rounds, each running the three tools once, in rotating order [3]
#   --copies K   times each host is listed, under unique names [enough for ~200 assets]
#
# Environment:
#   PROBER=target/release/prober   the prober binary (built with cargo build --release if missing;
#                                  a copy in OUTDIR/work runs, so rebuilds meanwhile do not matter)
#   PROBER_ARGS=                   extra arguments appended to the prober command
#   PER_HOST=10                    prober's --per-host; PER_HOST= (empty) does not pass the option
#   PARALLEL=50                    parallelism of all three tools
#   BENCH_HOSTS="name:ip:key ..."  hosts to probe; key is a file name in fixtures/generated/
#   ANSIBLE_CORE_SPEC=ansible-core pip requirement for the throwaway virtualenv
#
# Writes OUTDIR/compare.json (every measurement, the medians, versions, commands) and
# OUTDIR/compare.md (a markdown fragment for the README); OUTDIR/work holds the generated
# inventories, OUTDIR/raw every run's measurement, output and errors. Brings the fixtures up with
# scripts/fixtures-up.sh if prober-healthy-sudo is not running, and then down again on exit.
# Traffic goes only to the fixture containers (172.29.77.0/24); pip reaches PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/scripts/bench"
MEASURE="$BENCH/measure.py"
GENERATED="$ROOT/fixtures/generated"

# log, die and the lab network's name.
# shellcheck source-path=SCRIPTDIR source=../lib-fixtures.sh
source "$ROOT/scripts/lib-fixtures.sh"
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# --- arguments --------------------------------------------------------------------------------
OUTDIR=""
ROUNDS=3
COPIES=""
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift 2 ;;
    --copies) COPIES="${2:?--copies needs a number}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [[ -z "$OUTDIR" ]] || die "one OUTDIR only"; OUTDIR="$1"; shift ;;
  esac
done
[[ -n "$OUTDIR" ]] || { usage >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ -z "$COPIES" || "$COPIES" =~ ^[1-9][0-9]*$ ]] || die "--copies must be a positive integer"

PROBER="${PROBER:-$ROOT/target/release/prober}"
PROBER_ARGS="${PROBER_ARGS:-}"
PER_HOST="${PER_HOST-10}"
PARALLEL="${PARALLEL:-50}"
ANSIBLE_CORE_SPEC="${ANSIBLE_CORE_SPEC:-ansible-core}"
# The hosts on which admin logs in with its key, has NOPASSWD sudo and python3 (no password is
# used anywhere, so no sshpass). healthy-sudo and healthy-rsa are the healthy fixtures (healthy-root
# logs in with a password, so it is left out); the others are fixtures whose failure mode lies
# outside what is checked here (the inventory's stale password, the server refusing passwords, a
# changed host key with checking off, forwarding, push prerequisites): for admin's key they are
# healthy hosts. Spreading the load over a dozen sshds keeps each under sshd's MaxStartups
# (10:30:100: past 10 unauthenticated connections sshd drops new ones at random), which 50
# concurrent clients on one or two hosts exceed; Ansible and xargs have no per-host limit.
BENCH_HOSTS="${BENCH_HOSTS:-healthy-sudo:172.29.77.11:admin_ed25519 healthy-rsa:172.29.77.12:admin_rsa wrong-password:172.29.77.13:admin_ed25519 pubkey-only:172.29.77.14:admin_ed25519 hostkey-changed:172.29.77.27:admin_ed25519 jump-host:172.29.77.30:admin_ed25519 jump-noforward:172.29.77.31:admin_ed25519 system-users:172.29.77.40:admin_ed25519 prepush-no-include:172.29.77.41:admin_ed25519 prepush-no-visudo:172.29.77.42:admin_ed25519 prepush-uid-taken:172.29.77.43:admin_ed25519 prepush-home-taken:172.29.77.44:admin_ed25519}"
read -r -a HOST_SPECS <<<"$BENCH_HOSTS"
((${#HOST_SPECS[@]})) || die "BENCH_HOSTS is empty"
HOST_NAMES=() HOST_IPS=() HOST_KEYS=()
for spec in "${HOST_SPECS[@]}"; do
  IFS=: read -r name ip key <<<"$spec"
  [[ -n "$name" && -n "$key" && "$ip" =~ ^172\.29\.77\.[0-9]+$ ]] ||
    die "bad BENCH_HOSTS entry '$spec' (name:172.29.77.N:keyfile; only the fixture network is allowed)"
  HOST_NAMES+=("$name") HOST_IPS+=("$ip") HOST_KEYS+=("$GENERATED/$key")
done
NHOSTS=${#HOST_NAMES[@]}
COPIES="${COPIES:-$(((200 + NHOSTS - 1) / NHOSTS))}"
ASSETS=$((NHOSTS * COPIES))
REMOTE_CMD='id -u && sudo -n true && command -v python3'
TOOLS=(prober ansible openssh)

mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
WORK="$OUTDIR/work"
RAW="$OUTDIR/raw"
rm -rf "$WORK" "$RAW"
mkdir -p "$WORK" "$RAW"
# No agent: every tool offers exactly the key it is given.
unset SSH_AUTH_SOCK

# --- cleanup ----------------------------------------------------------------------------------
STARTED_FIXTURES=0
VENV_DIR=""
cleanup() {
  local rc=$?
  [[ -z "$VENV_DIR" ]] || rm -rf "$VENV_DIR"
  if ((STARTED_FIXTURES)); then
    log "taking the fixtures down (this script brought them up)"
    "$ROOT/scripts/fixtures-down.sh" || log "fixtures-down.sh failed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- prerequisites ----------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is needed"
command -v ssh >/dev/null 2>&1 || die "the OpenSSH client (ssh) is needed"
command -v xargs >/dev/null 2>&1 || die "xargs is needed"

if [[ ! -x "$PROBER" ]]; then
  [[ "$PROBER" == "$ROOT/target/release/prober" ]] || die "PROBER=$PROBER is not an executable"
  log "building the prober (cargo build --release -p prober)"
  (cd "$ROOT" && cargo build --release -p prober)
fi

fixtures_running() {
  [[ -n "$(docker ps -q --filter name='^prober-healthy-sudo$' --filter status=running 2>/dev/null)" ]]
}
if fixtures_running; then
  log "fixtures already up; leaving them up"
else
  log "fixtures not up: starting them with scripts/fixtures-up.sh"
  STARTED_FIXTURES=1
  "$ROOT/scripts/fixtures-up.sh"
fi
for key in "${HOST_KEYS[@]}"; do
  [[ -s "$key" ]] || die "missing key $key (scripts/fixtures-up.sh generates it)"
done

# Ansible, from PyPI, into a virtualenv that is removed on exit.
VENV_DIR="$(mktemp -d /tmp/prober-bench-ansible.XXXXXX)"
if ! python3 -m venv "$VENV_DIR/venv" >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 && -r /etc/debian_version ]]; then
    log "installing python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$VENV_DIR/venv"
  python3 -m venv "$VENV_DIR/venv" || die "python3 -m venv failed (install python3-venv)"
fi
log "installing $ANSIBLE_CORE_SPEC into a throwaway virtualenv"
"$VENV_DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$ANSIBLE_CORE_SPEC" ||
  die "pip install $ANSIBLE_CORE_SPEC failed"
ANSIBLE="$VENV_DIR/venv/bin/ansible"
ANSIBLE_VERSION="$("$ANSIBLE" --version)" # the whole output: head would close the pipe early
ANSIBLE_VERSION="${ANSIBLE_VERSION%%$'\n'*}"
OPENSSH_VERSION="$(ssh -V 2>&1)"
SSHD_VERSION="$(docker exec prober-healthy-sudo sh -c 'dpkg-query -W -f "\${Version}" openssh-server' 2>/dev/null || echo unknown)"
# A copy of the binary is what runs, so a rebuild during the benchmark does not change it.
PROBER_BIN="$WORK/prober"
cp "$PROBER" "$PROBER_BIN"
PROBER_VERSION="$("$PROBER_BIN" --version) (sha256 $(sha256sum "$PROBER_BIN" | cut -c1-12), copied from $PROBER)"
PROBER_VERSION="${PROBER_VERSION//"$ROOT"/ROOT}"

# --- inventories ------------------------------------------------------------------------------
# Every asset appears in the same order for every tool: host by host within each copy
# (healthy-sudo-1, healthy-rsa-1, ..., healthy-sudo-2, ...), so 50 parallel workers spread
# evenly over the hosts. Names are unique: Ansible merges identical inventory names.
CREDS="$WORK/credentials.toml"
SSH_CONFIG="$WORK/ssh_config"
{
  echo "# admin with each key the benchmark hosts use (absolute paths)."
  for key in $(printf '%s\n' "${HOST_KEYS[@]}" | sort -u); do
    printf '[credentials.bench-%s]\nusername = "admin"\nkey = "%s"\n\n' "$(basename "$key")" "$key"
  done
} >"$CREDS"
# The OpenSSH client's (and Ansible's) per-host key; -F also keeps the user's and the system's
# ssh_config out of the measurement.
{
  for ((h = 0; h < NHOSTS; h++)); do
    printf 'Host %s\n  IdentityFile %s\n  IdentitiesOnly yes\n\n' "${HOST_IPS[h]}" "${HOST_KEYS[h]}"
  done
} >"$SSH_CONFIG"
chmod 600 "$SSH_CONFIG"

# $1 copies, $2 directory: writes inventory.csv (prober), inventory.ini (Ansible) and
# targets.txt (xargs) there, and points INV_CSV, INV_INI, TARGETS and EXPECTED at them.
write_inventories() {
  local copies=$1 dir=$2 c h
  mkdir -p "$dir"
  INV_CSV="$dir/inventory.csv" INV_INI="$dir/inventory.ini" TARGETS="$dir/targets.txt"
  EXPECTED=$((copies * NHOSTS))
  {
    echo "name,host,port,admin_user"
    for ((c = 1; c <= copies; c++)); do
      for ((h = 0; h < NHOSTS; h++)); do
        echo "${HOST_NAMES[h]}-$c,${HOST_IPS[h]},22,bench-$(basename "${HOST_KEYS[h]}")"
      done
    done
  } >"$INV_CSV"
  {
    echo "[bench]"
    for ((c = 1; c <= copies; c++)); do
      for ((h = 0; h < NHOSTS; h++)); do
        echo "${HOST_NAMES[h]}-$c ansible_host=${HOST_IPS[h]} ansible_ssh_private_key_file=${HOST_KEYS[h]}"
      done
    done
    echo
    echo "[all:vars]"
    echo "ansible_user=admin"
    echo "ansible_python_interpreter=/usr/bin/python3"
  } >"$INV_INI"
  for ((c = 1; c <= copies; c++)); do
    printf '%s\n' "${HOST_IPS[@]}"
  done >"$TARGETS"
}

# --- the three commands -----------------------------------------------------------------------
# $1: where the prober writes its CSV.
prober_cmd() {
  CMD=("$PROBER_BIN" check "$INV_CSV" --credentials "$CREDS" --concurrency "$PARALLEL")
  [[ -z "$PER_HOST" ]] || CMD+=(--per-host "$PER_HOST")
  CMD+=(--host-key-check off --format csv -o "$1" --quiet)
  local extra
  read -r -a extra <<<"$PROBER_ARGS"
  CMD+=("${extra[@]}")
}
# ControlMaster=no: Ansible's default ControlMaster=auto/ControlPersist=60s would let the
# duplicates of one address share a master connection (so fewer than one SSH connection per
# asset), and the master daemonizes: its CPU escapes measure.py's wait4 accounting and it lingers
# into the next tool's run. Pipelining: the ping module goes over the one connection's stdin;
# without it Ansible makes three connections per host (mkdir, sftp put, run).
# ANSIBLE_HOME/LOCAL_TEMP keep ~/.ansible untouched; run from $WORK so no ansible.cfg is read.
ansible_cmd() {
  CMD=(env
    "ANSIBLE_HOME=$VENV_DIR/home"
    "ANSIBLE_LOCAL_TEMP=$VENV_DIR/tmp"
    ANSIBLE_HOST_KEY_CHECKING=False
    "ANSIBLE_SSH_ARGS=-F $SSH_CONFIG -o ControlMaster=no -o UserKnownHostsFile=/dev/null"
    ANSIBLE_PIPELINING=True
    ANSIBLE_RETRY_FILES_ENABLED=False
    ANSIBLE_TIMEOUT=10
    ANSIBLE_DEPRECATION_WARNINGS=False
    "$ANSIBLE" all -i "$INV_INI" -m ping -f "$PARALLEL")
}
# The checks joined with && so that any failing one fails the asset (and xargs exits 123).
# The addresses come on stdin (measure.py --stdin), so GNU xargs gives each ssh /dev/null as stdin.
openssh_cmd() {
  CMD=(xargs -P "$PARALLEL" -I '{}'
    ssh -F "$SSH_CONFIG" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o ConnectTimeout=10 'admin@{}' "$REMOTE_CMD")
}

# --- CPU counters outside the client ----------------------------------------------------------
# shellcheck disable=SC2046 # one container id per word
mapfile -t CONTAINER_IDS < <(docker inspect -f '{{.Id}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' \
  $(docker ps -q --filter network="$LAB_NETWORK") |
  awk -v ips="${HOST_IPS[*]}" 'BEGIN { split(ips, a, " "); for (i in a) want[a[i]] = 1 }
    { for (i = 2; i <= NF; i++) if ($i in want) { print $1; break } }')
((${#CONTAINER_IDS[@]} == NHOSTS)) || log "warning: found ${#CONTAINER_IDS[@]} containers for $NHOSTS hosts"
# CPU seconds used so far by the benchmark hosts' containers (cgroup v1 or v2), or "null".
server_cpu() {
  local id total=0 file usage
  for id in "${CONTAINER_IDS[@]}"; do
    usage=""
    for file in /sys/fs/cgroup/cpuacct/docker/"$id"/cpuacct.usage \
      /sys/fs/cgroup/cpu,cpuacct/docker/"$id"/cpuacct.usage; do
      [[ -r "$file" ]] && { usage=$(($(<"$file") / 1000)); break; }
    done
    if [[ -z "$usage" ]]; then
      for file in /sys/fs/cgroup/system.slice/docker-"$id".scope/cpu.stat /sys/fs/cgroup/docker/"$id"/cpu.stat; do
        [[ -r "$file" ]] && { usage="$(awk '$1 == "usage_usec" {print $2}' "$file")"; break; }
      done
    fi
    [[ -n "$usage" ]] || { echo null; return; }
    total=$((total + usage))
  done
  echo "$total" # microseconds
}
# With Docker's fuse-overlayfs storage driver every file access in a container goes through a
# fuse-overlayfs daemon on the host, outside the container's cgroup: its CPU is server-side work
# too. One daemon per container, found by the container's merged directory.
FUSE_PIDS=()
mapfile -t MERGED_DIRS < <(docker inspect -f '{{.GraphDriver.Data.MergedDir}}' "${CONTAINER_IDS[@]}" 2>/dev/null || true)
for pid in $(pgrep -x fuse-overlayfs || true); do
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || continue
  for merged in "${MERGED_DIRS[@]}"; do
    [[ -n "$merged" && "$cmdline" == *" $merged "* ]] && { FUSE_PIDS+=("$pid"); break; }
  done
done
# CPU clock ticks used so far by those daemons.
fuse_cpu() {
  local pid total=0 stat
  for pid in "${FUSE_PIDS[@]}"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    read -r -a stat <<<"${stat##*) }" # fields from the 3rd on: utime and stime are the 12th and 13th
    total=$((total + stat[11] + stat[12]))
  done
  echo "$total"
}
# Busy CPU time of the whole machine, in clock ticks (everything but idle and iowait).
host_busy() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# One line: container CPU (us or null), fuse-overlayfs ticks, machine busy ticks, time (ns).
counters() { echo "$(server_cpu) $(fuse_cpu) $(host_busy) $(date +%s%N)"; }
HZ="$(getconf CLK_TCK)"
IDLE_SERVER_RATE=0 IDLE_FUSE_RATE=0

# --- checking each run ------------------------------------------------------------------------
# $1 tool, $2 file prefix: fails unless every asset passed.
verify() {
  local tool=$1 prefix=$2 rc ok
  rc="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' "$prefix.json")"
  case "$tool" in
    prober)
      ok="$(python3 - "$prefix.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
bad = [f"{r['name']}={r['category']}" for r in rows if r["category"] != "ok"]
for b in bad[:5]:
    print(b, file=sys.stderr)
print(len(rows) - len(bad))
PY
)" ;;
    ansible) ok="$(grep -c ' | SUCCESS' "$prefix.out" || true)" ;;
    openssh) ok="$(grep -c '^/usr/bin/python3$' "$prefix.out" || true)" ;;
  esac
  if [[ "$ok" != "$EXPECTED" ]]; then
    log "$tool: $ok of $EXPECTED assets passed (rc $rc); see $prefix.*"
    tail -n 5 "$prefix.err" >&2 || true
    return 1
  fi
  [[ "$rc" == 0 ]] || { log "$tool exited with $rc although every asset passed"; return 1; }
}

# $1 tool, $2 file prefix: runs the tool under measure.py, with the CPU counters around it.
run_tool() {
  local tool=$1 prefix=$2 before after stdin=/dev/null
  case "$tool" in
    prober) prober_cmd "$prefix.csv" ;;
    ansible) ansible_cmd ;;
    openssh) openssh_cmd; stdin="$TARGETS" ;;
  esac
  before="$(counters)"
  (cd "$WORK" && python3 "$MEASURE" --json "$prefix.json" --stdin "$stdin" --stdout "$prefix.out" --stderr "$prefix.err" -- "${CMD[@]}") || true
  # Let the servers finish tearing down the sessions before reading their CPU.
  sleep 1
  after="$(counters)"
  python3 - "$prefix.json" "$before" "$after" "$HZ" "$IDLE_SERVER_RATE" "$IDLE_FUSE_RATE" <<'PY'
import json, sys
path, before, after, hz, idle_server, idle_fuse = sys.argv[1:]
(c0, f0, b0, t0), (c1, f1, b1, t1) = before.split(), after.split()
hz, idle_server, idle_fuse = int(hz), float(idle_server), float(idle_fuse)
with open(path) as f:
    m = json.load(f)
# The counters are read around the run and the 1 s pause after it.
window = (int(t1) - int(t0)) / 1e9
m["window_s"] = round(window, 3)
containers = None if "null" in (c0, c1) else (int(c1) - int(c0)) / 1e6
fuse = (int(f1) - int(f0)) / hz
m["containers_cpu_s"] = containers
m["fuse_overlayfs_cpu_s"] = fuse
# Server side: the hosts' containers and their fuse-overlayfs daemons, less what they use
# idle over the same window (the compose health checks connect to every sshd every 2 s).
m["server_cpu_s"] = None if containers is None else round(
    containers + fuse - (idle_server + idle_fuse) * window, 3)
m["host_busy_s"] = (int(b1) - int(b0)) / hz
# Everything else the machine did meanwhile: Docker, the other fixtures, other users' work.
m["other_cpu_s"] = None if containers is None else round(
    m["host_busy_s"] - m["cpu_s"] - containers - fuse, 3)
with open(path, "w") as f:
    json.dump(m, f, indent=2)
PY
  verify "$tool" "$prefix"
}

# --- run --------------------------------------------------------------------------------------
log "hosts: ${HOST_NAMES[*]}"
log "$ASSETS assets ($NHOSTS hosts x $COPIES copies), $ROUNDS rounds, parallelism $PARALLEL"
log "checking every host once with the OpenSSH client"
for ((h = 0; h < NHOSTS; h++)); do
  ssh -F "$SSH_CONFIG" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 "admin@${HOST_IPS[h]}" "$REMOTE_CMD" >/dev/null 2>"$WORK/precheck.err" ||
    die "${HOST_NAMES[h]} (${HOST_IPS[h]}) fails the checks: $(tail -n 2 "$WORK/precheck.err")"
done
# The key exchange the OpenSSH client negotiates with these servers (the prober's is in its CSV).
ssh -v -F "$SSH_CONFIG" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o ConnectTimeout=10 "admin@${HOST_IPS[0]}" true >/dev/null 2>"$WORK/kex.err" || true
OPENSSH_KEX="$(tr -d '\r' <"$WORK/kex.err" | sed -n 's/.*kex: algorithm: //p')"
OPENSSH_KEX="${OPENSSH_KEX%%$'\n'*}"

# What the hosts' containers and fuse-overlayfs daemons use while nobody connects.
IDLE_SECONDS="${IDLE_SECONDS:-10}"
log "measuring the idle server-side CPU for ${IDLE_SECONDS}s"
idle0="$(counters)"
sleep "$IDLE_SECONDS"
idle1="$(counters)"
read -r IDLE_SERVER_RATE IDLE_FUSE_RATE < <(python3 - "$idle0" "$idle1" "$HZ" <<'PY'
import sys
(c0, f0, _, t0), (c1, f1, _, t1) = (a.split() for a in sys.argv[1:3])
window = (int(t1) - int(t0)) / 1e9
server = 0 if "null" in (c0, c1) else (int(c1) - int(c0)) / 1e6 / window
print(f"{server:.6f} {(int(f1) - int(f0)) / int(sys.argv[3]) / window:.6f}")
PY
)
log "idle: containers ${IDLE_SERVER_RATE} CPU-s/s, fuse-overlayfs ${IDLE_FUSE_RATE} CPU-s/s"

# One unmeasured run of each tool on every host once: page cache, Python bytecode, sshd's forks.
log "warm-up run of each tool ($NHOSTS assets)"
write_inventories 1 "$WORK/warmup"
for tool in "${TOOLS[@]}"; do
  run_tool "$tool" "$RAW/warmup-$tool" || die "warm-up run of $tool failed"
done
write_inventories "$COPIES" "$WORK"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  order=()
  for ((i = 0; i < ${#TOOLS[@]}; i++)); do
    order+=("${TOOLS[(i + r - 1) % ${#TOOLS[@]}]}")
  done
  log "round $r/$ROUNDS: ${order[*]}"
  for tool in "${order[@]}"; do
    prefix="$RAW/round-$r-$tool"
    run_tool "$tool" "$prefix" || die "round $r: $tool did not pass every asset"
    log "  $tool: $(python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print("wall %.2f s, client CPU %.2f s, server CPU %s s" % (m["wall_s"], m["cpu_s"], m["server_cpu_s"]))' "$prefix.json")"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -----------------------------------------------------------------------------------
# The commands as run, with the long directories named: WORK, VENV, and ROOT for the checkout.
shown() {
  local arg text=""
  for arg in "${CMD[@]}"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then
      text+="$arg "
    else
      text+="'${arg//\'/\'\\\'\'}' "
    fi
  done
  text="${text% }"
  text="${text//"$WORK"/WORK}"
  text="${text//"$VENV_DIR"/VENV}"
  printf '%s' "${text//"$ROOT"/ROOT}"
}
prober_cmd "WORK/prober-results.csv"
PROBER_CMD="$(shown)"
ansible_cmd
ANSIBLE_CMD="$(shown)"
openssh_cmd
OPENSSH_CMD="$(shown) <WORK/targets.txt"

export OUTDIR RAW ROUNDS ASSETS NHOSTS COPIES PARALLEL PER_HOST BENCH_HOSTS PROBER_VERSION \
  ANSIBLE_VERSION OPENSSH_VERSION SSHD_VERSION PROBER_CMD ANSIBLE_CMD OPENSSH_CMD LOAD_BEFORE \
  LOAD_AFTER ROOT OPENSSH_KEX IDLE_SERVER_RATE IDLE_FUSE_RATE IDLE_SECONDS
FUSE_DAEMONS=${#FUSE_PIDS[@]}
export FUSE_DAEMONS
python3 - <<'PY'
import json, os, platform, statistics

env = os.environ
tools = ["prober", "ansible", "openssh"]
labels = {
    "prober": "prober",
    "ansible": "Ansible (`ansible -m ping`)",
    "openssh": "OpenSSH client (`xargs -P ssh`)",
}
rounds = int(env["ROUNDS"])
assets = int(env["ASSETS"])
runs = {t: [] for t in tools}
for r in range(1, rounds + 1):
    for t in tools:
        with open(f"{env['RAW']}/round-{r}-{t}.json") as f:
            m = json.load(f)
        m["round"] = r
        runs[t].append(m)

def med(t, key):
    values = [m[key] for m in runs[t] if m.get(key) is not None]
    return statistics.median(values) if values else None

medians = {
    t: {
        k: med(t, k)
        for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_kb", "server_cpu_s",
                  "containers_cpu_s", "fuse_overlayfs_cpu_s", "host_busy_s", "other_cpu_s")
    }
    for t in tools
}
for t in tools:
    medians[t]["probes_per_s"] = assets / medians[t]["wall_s"]

def ratio(t, key):
    a, b = medians[t][key], medians["prober"][key]
    return a / b if a is not None and b else None

ratios = {
    t: {"wall": ratio(t, "wall_s"), "client_cpu": ratio(t, "cpu_s"), "server_cpu": ratio(t, "server_cpu_s")}
    for t in ("ansible", "openssh")
}
targets = {
    "ansible_wall_10x": ratios["ansible"]["wall"] >= 10,
    "openssh_wall_3x": ratios["openssh"]["wall"] >= 3,
}
cpu_model = ""
try:
    with open("/proc/cpuinfo") as f:
        cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
except OSError:
    pass
machine = {
    "cpus": os.cpu_count(),
    "cpu_model": cpu_model,
    "kernel": platform.release(),
    "loadavg_before": env["LOAD_BEFORE"],
    "loadavg_after": env["LOAD_AFTER"],
}
commands = {"prober": env["PROBER_CMD"].strip(), "ansible": env["ANSIBLE_CMD"].strip(), "openssh": env["OPENSSH_CMD"].strip()}
versions = {
    "prober": env["PROBER_VERSION"],
    "ansible_core": env["ANSIBLE_VERSION"],
    "openssh_client": env["OPENSSH_VERSION"],
    "openssh_server": env["SSHD_VERSION"],
}
hosts = [dict(zip(("name", "ip", "key"), s.split(":"))) for s in env["BENCH_HOSTS"].split()]
import csv
with open(f"{env['RAW']}/round-1-prober.csv", newline="") as f:
    prober_kex = sorted({row["kex"] for row in csv.DictReader(f)})
kex = {"prober": ", ".join(prober_kex), "openssh_client": env["OPENSSH_KEX"] or "unknown"}
out = {
    "assets": assets,
    "hosts": hosts,
    "copies": int(env["COPIES"]),
    "rounds": rounds,
    "parallelism": int(env["PARALLEL"]),
    "prober_per_host": env["PER_HOST"] or None,
    "versions": versions,
    "machine": machine,
    "commands": commands,
    "runs": runs,
    "medians": medians,
    "ratios_vs_prober": ratios,
    "targets_met": targets,
    "idle_server_side_cpu_per_s": {
        "containers": float(env["IDLE_SERVER_RATE"]),
        "fuse_overlayfs": float(env["IDLE_FUSE_RATE"]),
        "measured_over_s": float(env["IDLE_SECONDS"]),
    },
    "fuse_overlayfs_daemons": int(env["FUSE_DAEMONS"]),
    "key_exchange": kex,
}
with open(f"{env['OUTDIR']}/compare.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")

def s(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"

def x(v):
    return "n/a" if v is None else f"{v:.1f}x"

lines = []
add = lines.append
cpus = machine["cpus"] or 1
add("### Side by side on the OpenSSH fixtures")
add("")
add(
    f"{assets} assets: {len(hosts)} compose fixture hosts, each listed {env['COPIES']} times under"
    f" unique names. Every tool runs {env['PARALLEL']}-way parallel, makes one fresh SSH connection"
    f" per asset and must find every asset healthy. {rounds} rounds with the tools interleaved in"
    " rotating order, after one unmeasured warm-up run each; medians."
    " Client CPU: the tool and every process it waited for (user + sys, from `wait4`)."
    " Server CPU: the hosts' containers (cgroup accounting) and their fuse-overlayfs storage"
    " daemons, less what they use idle (the compose health checks)."
)
add("")
add("| tool | assets | median wall s | probes/s | median client CPU s | median server CPU s | wall vs prober | client CPU vs prober |")
add("|---|---:|---:|---:|---:|---:|---:|---:|")
for t in tools:
    m = medians[t]
    rw = "1.0x" if t == "prober" else x(ratios[t]["wall"])
    rc = "1.0x" if t == "prober" else x(ratios[t]["client_cpu"])
    add(f"| {labels[t]} | {assets} | {s(m['wall_s'])} | {m['probes_per_s']:.1f} | {s(m['cpu_s'])} | {s(m['server_cpu_s'])} | {rw} | {rc} |")
add("")
aw, ow = ratios["ansible"]["wall"], ratios["openssh"]["wall"]
add(
    f"- Target: at least 10x faster than Ansible (wall time). **{'Met' if targets['ansible_wall_10x'] else 'Not met'}**:"
    f" Ansible / prober = {aw:.1f}x."
)
add(
    f"- Target: at least 3x faster than the OpenSSH client (wall time). **{'Met' if targets['openssh_wall_3x'] else 'Not met'}**:"
    f" OpenSSH / prober = {ow:.1f}x."
)
add(
    f"- Client CPU: Ansible / prober = {x(ratios['ansible']['client_cpu'])},"
    f" OpenSSH / prober = {x(ratios['openssh']['client_cpu'])}."
    f" Server CPU: Ansible / prober = {x(ratios['ansible']['server_cpu'])},"
    f" OpenSSH / prober = {x(ratios['openssh']['server_cpu'])}."
)
per_asset = []
for t in tools:
    m = medians[t]
    if m["server_cpu_s"] is None:
        continue
    per_asset.append(
        f"{labels[t].split(' (')[0]} {1000 * m['cpu_s'] / assets:.1f} ms client +"
        f" {1000 * m['server_cpu_s'] / assets:.1f} ms server"
    )
if per_asset:
    add("- CPU per asset: " + "; ".join(per_asset) + ".")
pm = medians["prober"]
if pm["server_cpu_s"] is not None and pm["host_busy_s"]:
    share = pm["server_cpu_s"] / (pm["server_cpu_s"] + pm["cpu_s"])
    busy = med("prober", "host_busy_s") / (med("prober", "window_s") * cpus)
    add(
        f"- In the prober's runs the servers used {100 * share:.0f}% of the client + server CPU, and"
        f" the machine's {cpus} CPUs were {100 * busy:.0f}% busy (over the run and a 1 s"
        f" pause after it; {s(pm['other_cpu_s'], 1)} CPU-s went to everything else: Docker, the other"
        " fixtures, other work on the machine). The fixtures share the CPUs with the clients, so"
        " where they are saturated the wall time measures the servers as much as the tools."
    )
add("")
add("Per round (wall s / client CPU s / server CPU s / other CPU s on the machine):")
add("")
add("| round | order | " + " | ".join(labels[t].split(" (")[0] for t in tools) + " |")
add("|---:|---|" + "---|" * len(tools))
for r in range(1, rounds + 1):
    order = [tools[(i + r - 1) % len(tools)] for i in range(len(tools))]
    cells = []
    for t in tools:
        m = runs[t][r - 1]
        cells.append(
            f"{m['wall_s']:.2f} / {m['cpu_s']:.2f} / {s(m.get('server_cpu_s'))} / {s(m.get('other_cpu_s'), 1)}"
        )
    add(f"| {r} | {', '.join(order)} | " + " | ".join(cells) + " |")
add("")
add("Hosts (user `admin` with the key shown; NOPASSWD sudo and python3 on each), each listed"
    f" {env['COPIES']} times as NAME-1 ... NAME-{env['COPIES']}:")
add("")
add(", ".join(f"{h['name']} {h['ip']} (`{h['key']}`)" for h in hosts) + ".")
add("")
add("What each tool checks per asset:")
add("")
add("- prober: TCP, SSH banner, key exchange, admin's key login, then one exec of its inspection"
    " script (uid, `sudo -n`, python, a writable temp dir, facts); host key check off.")
add("- Ansible: the `ping` module, pipelined over the one connection: login, then python3 runs the"
    " module (no sudo check).")
add("- OpenSSH client: login, then `id -u && sudo -n true && command -v python3`.")
add("")
add(
    f"Key exchange negotiated: prober `{kex['prober']}`; OpenSSH client (and Ansible, which runs it)"
    f" `{kex['openssh_client']}`. Why a dozen hosts rather than healthy-sudo alone: sshd's"
    " MaxStartups (10:30:100) drops new connections at random once 10 are unauthenticated, so 50"
    " parallel OpenSSH clients on one host fail (`kex_exchange_identification: Connection closed by"
    " remote host`), and neither Ansible nor xargs limits connections per host; assets are listed"
    " host by host, so 50 workers keep about 50 / hosts connections on each."
)
add("")
add("Commands (`ROOT` = the checkout, `WORK` = the generated inventories and ssh_config,"
    " `VENV` = the throwaway virtualenv; run from `WORK`, stdin /dev/null unless redirected):")
add("")
add("```sh")
add(commands["prober"])
add(commands["ansible"])
add(commands["openssh"])
add("```")
add("")
add(
    f"Versions: {versions['prober']}; {versions['ansible_core']} (from PyPI, in a throwaway"
    f" virtualenv); client {versions['openssh_client']}; fixtures' openssh-server"
    f" {versions['openssh_server']}. Machine: {cpus} CPUs ({cpu_model or 'unknown'}),"
    f" Linux {machine['kernel']}, load average {machine['loadavg_before']} before the rounds and"
    f" {machine['loadavg_after']} after. Idle, the {len(hosts)} hosts' containers used"
    f" {float(env['IDLE_SERVER_RATE']):.3f} CPU-s/s and their fuse-overlayfs daemons"
    f" {float(env['IDLE_FUSE_RATE']):.3f} CPU-s/s."
)
with open(f"{env['OUTDIR']}/compare.md", "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
log "wrote $OUTDIR/compare.json and $OUTDIR/compare.md"
