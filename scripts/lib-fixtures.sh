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
