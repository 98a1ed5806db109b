#!/usr/bin/env bash
# Stops the fixture lab: removes every container, the prober-lab network and anonymous volumes.
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
if docker network inspect "$LAB_NETWORK" >/dev/null 2>&1; then
  log "removing leftover network $LAB_NETWORK"
  docker network rm "$LAB_NETWORK" >/dev/null
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
