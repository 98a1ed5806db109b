#!/usr/bin/env bash
# Benchmarks: writes docs/BENCHMARKS.md and its plot, docs/bench-throughput.svg.
#
#   scripts/bench.sh [--quick] [--no-compare]
#
#   --quick        smaller farm runs and one comparison round, to try the script (~5 min)
#   --no-compare   skip the OpenSSH fixture comparison (no docker needed)
#
# 1. builds the release binary;
# 2. the farm (python3 scripts/bench farm): `prober farm` on loopback, probed at 1,000 to
#    100,000 assets and at rising concurrency;
# 3. the OpenSSH fixtures (python3 scripts/bench compare): prober vs Ansible vs the OpenSSH
#    client, interleaved rounds, fixtures brought up and down by the compose scripts;
# 4. the hot paths profiling found (engine/benches/hot_paths.rs, divan): known_hosts with 100,000
#    entries, reading an inventory, parsing an inspection;
# 5. the report (python3 scripts/bench report OUTDIR), from the raw results alone, with a
#    verdict on every target; run it again on OUTDIR to regenerate the report.
# The farm runs first, while no container runs, so the fixtures' load does not skew it.
# Raw results stay in BENCH_OUT (default: a new directory under /tmp), named at the end.
# Traffic goes only to loopback and the fixtures' containers; pip reaches PyPI for Ansible.
# Options of each step: python3 scripts/bench STEP --help.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

quick=()
compare=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --no-compare) compare=0 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) log "unknown option $arg (see --help)"; exit 2 ;;
  esac
done

out="${BENCH_OUT:-$(mktemp -d /tmp/prober-bench.XXXXXX)}"
mkdir -p "$out" docs
log "raw results in $out"

log "cargo build --release"
cargo build --release --locked -p prober
prober="$PWD/target/release/prober"

# Every probe in flight holds a descriptor in the prober and one in the farm.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A docker host's firewall tracks loopback connections too. The farm makes about 2,000 a second,
# each of which stays in the conntrack table for 2 minutes after closing: the table fills
# (262,144 entries by default) and the kernel drops new connections, which then time out. As
# root, the farm's addresses are exempted from tracking while it runs, and only those.
farm_range=127.128.0.0/12
notrack_applied=0
notrack_rules=("PREROUTING -s $farm_range" "PREROUTING -d $farm_range" "OUTPUT -s $farm_range" "OUTPUT -d $farm_range")
notrack() {
  local rule
  for rule in "${notrack_rules[@]}"; do
    # shellcheck disable=SC2086 # the rule is words
    iptables -w -t raw "$1" $rule -j NOTRACK
  done
}
if [[ "$(id -u)" == 0 && -e /proc/sys/net/netfilter/nf_conntrack_count ]] && command -v iptables >/dev/null; then
  notrack -I
  notrack_applied=1
  trap 'notrack -D' EXIT
  echo "applied $farm_range" >"$out/notrack.txt"
else
  echo "not applied (needs root, iptables and conntrack)" >"$out/notrack.txt"
fi

log "farm"
python3 scripts/bench farm "$out" --prober "$prober" "${quick[@]}"
if ((notrack_applied)); then
  notrack -D
  trap - EXIT
fi

if ((compare)); then
  log "OpenSSH fixtures: prober, Ansible, OpenSSH client"
  rounds=()
  ((${#quick[@]} == 0)) || rounds=(--rounds 1)
  python3 scripts/bench compare "$out" --prober "$prober" "${rounds[@]}"
fi

log "micro-benchmarks of the hot paths"
cargo bench --locked -p prober-engine --bench hot_paths | tee "$out/hot_paths.txt"

python3 scripts/bench report "$out" --out docs/BENCHMARKS.md --svg docs/bench-throughput.svg
log "done: docs/BENCHMARKS.md (raw results in $out)"
