# shellcheck shell=bash
# Shared helpers for the fixture scripts (sourced, not executed).
# shellcheck disable=SC2034 # the names below are used by the scripts that source this file

FIXTURES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FIXTURES_ROOT
COMPOSE_FILE_PATH="$FIXTURES_ROOT/docker-compose.yml"
COMPOSE_PROJECT="${PROBER_COMPOSE_PROJECT:-prober}"
FIXTURE_IMAGE="prober-fixture:latest"
LOCAL_BASE_IMAGE="prober-fixture-base:bookworm"
UPSTREAM_BASE_IMAGE="debian:bookworm-slim"
LAB_NETWORK="prober-lab"
# The network only the jump hosts and the gateway reach (see docker-compose.yml).
INTERNAL_NETWORK="prober-internal"
INTERNAL_SUBNET="172.29.78.0/24"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Sets the COMPOSE array: `docker compose` (v2) when present, else `docker-compose` (v1).
pick_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    return 1
  fi
  COMPOSE_NAME="${COMPOSE[*]}"
  COMPOSE+=(--project-name "$COMPOSE_PROJECT" --file "$COMPOSE_FILE_PATH")
}

compose() { "${COMPOSE[@]}" "$@"; }

# The running fixtures' addresses, "SERVICE NETWORK" → address, filled by load_addresses.
# Scripts name services and ask addr for their addresses, so that docker-compose.yml stays the
# one place an address is written.
declare -gA FIXTURE_ADDRESSES=()

# load_addresses: reads every running fixture's addresses, in one docker call, before any
# $(addr …) subshell needs them.
load_addresses() {
  local ids service network address
  ids="$(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT")"
  [[ -n "$ids" ]] || die "no fixture is running (scripts/fixtures-up.sh starts them)"
  # shellcheck disable=SC2086 # one id per word
  while read -r service network address; do
    FIXTURE_ADDRESSES["$service $network"]="$address"
  done < <(docker inspect --format \
    '{{$s := index .Config.Labels "com.docker.compose.service"}}{{range $n, $e := .NetworkSettings.Networks}}{{$s}} {{$n}} {{$e.IPAddress}}{{println}}{{end}}' \
    $ids)
}

# addr SERVICE [NETWORK]: the running fixture's address on NETWORK; without NETWORK, on the lab
# network, or on the internal one for a service that is only there.
addr() {
  local networks=("$LAB_NETWORK" "$INTERNAL_NETWORK") network
  [[ $# -lt 2 ]] || networks=("$2")
  for network in "${networks[@]}"; do
    if [[ -n "${FIXTURE_ADDRESSES["$1 $network"]:-}" ]]; then
      printf '%s\n' "${FIXTURE_ADDRESSES["$1 $network"]}"
      return 0
    fi
  done
  log "ERROR: no running fixture '$1' on ${networks[*]}"
  return 1
}
