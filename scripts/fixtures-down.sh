#!/usr/bin/env bash
# Stops the fixture lab: removes every container, the prober-lab and prober-internal networks,
# anonymous volumes, and the unreachable route fixtures-up.sh added for the internal network.
#
#   scripts/fixtures-down.sh [--images]
#
#   --images   also remove the images prober-fixture:latest and prober-fixture-base:bookworm, and
#              untagged older builds of them (the next fixtures-up.sh rebuilds the base with
#              mmdebstrap)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib-fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-fixtures.sh"

remove_images=0
for arg in "$@"; do
  case "$arg" in
    --images) remove_images=1 ;;
    -h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

command -v docker >/dev/null 2>&1 || die "docker is not installed"
pick_compose || die "neither 'docker compose' nor 'docker-compose' is available"

compose down --volumes --remove-orphans --timeout 5

# Belt and braces: anything labelled with the project, or the network, that compose missed.
leftover="$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT")"
if [[ -n "$leftover" ]]; then
  log "removing leftover containers: $leftover"
  # shellcheck disable=SC2086 # one id per word
  docker rm -f $leftover >/dev/null
fi
for network in "$LAB_NETWORK" "$INTERNAL_NETWORK"; do
  if docker network inspect "$network" >/dev/null 2>&1; then
    log "removing leftover network $network"
    docker network rm "$network" >/dev/null
  fi
done
if ip route show type unreachable 2>/dev/null | grep -q "^unreachable $INTERNAL_SUBNET"; then
  ip route del unreachable "$INTERNAL_SUBNET" 2>/dev/null || log "could not remove the unreachable route to $INTERNAL_SUBNET"
fi
if ((remove_images)); then
  for image in "$FIXTURE_IMAGE" "$LOCAL_BASE_IMAGE"; do
    if docker image inspect "$image" >/dev/null 2>&1; then
      log "removing image $image"
      docker image rm "$image" >/dev/null
    fi
  done
  # Older builds of the fixture image, left untagged by rebuilds.
  docker image prune --force --filter label=org.prober.fixture >/dev/null
fi
log "fixtures down"
