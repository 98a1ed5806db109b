#!/usr/bin/env bash
# Builds the fixture image and starts every fixture container, then waits until all are healthy.
#
#   scripts/fixtures-up.sh
#
# Environment:
#   PROBER_FIXTURE_PULL=0         do not try `docker pull debian:bookworm-slim` (it is tried first, and
#                                 a local base is built with mmdebstrap when it fails)
#   PROBER_FIXTURE_TIMEOUT=180    seconds to wait for every service to become healthy
#   PROBER_COMPOSE_PROJECT=prober compose project name
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib-fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-fixtures.sh"

GENERATED="$FIXTURES_ROOT/fixtures/generated"
HEALTH_TIMEOUT="${PROBER_FIXTURE_TIMEOUT:-180}"
# Everything the fixture image needs (the Dockerfile installs the same list).
mapfile -t BASE_PACKAGES <"$FIXTURES_ROOT/fixtures/containers/packages.txt"
# apt-get install is only attempted as root on Debian.
can_apt_install() { [[ "$(id -u)" == 0 && -r /etc/debian_version ]]; }

# --- 1. docker engine -------------------------------------------------------------------------
ensure_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    can_apt_install || die "docker is not installed (install docker.io and docker-compose)"
    log "installing docker.io and docker-compose from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    command -v dockerd >/dev/null 2>&1 || die "docker daemon not running and dockerd not found"
    [[ "$(id -u)" == 0 ]] || die "docker daemon not running (and not root, so not starting dockerd)"
    log "starting dockerd in the background (log: /var/log/dockerd-fixtures.log)"
    nohup dockerd >/var/log/dockerd-fixtures.log 2>&1 &
    local waited=0
    until docker info >/dev/null 2>&1; do
      ((waited < 60)) || die "dockerd did not come up within 60s, see /var/log/dockerd-fixtures.log"
      sleep 1
      waited=$((waited + 1))
    done
  fi
  if ! pick_compose; then
    can_apt_install || die "neither 'docker compose' nor 'docker-compose' is available"
    log "installing docker-compose from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
    pick_compose || die "docker-compose still not available"
  fi
  log "compose command: $COMPOSE_NAME"
}

# --- 2. base image ----------------------------------------------------------------------------
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The machine's own Debian bookworm apt sources, as one-line "deb URI SUITE COMPONENT" entries.
host_debian_sources() {
  apt-cache policy 2>/dev/null | awk '
    /^ *[0-9]+ [a-z]+:\/\// { uri = $2; split($3, sc, "/"); suite = sc[1]; comp = sc[2]; next }
    /^ *release / && uri != "" {
      if ($0 ~ /o=Debian/ && suite ~ /^bookworm/) print "deb " uri " " suite " " comp
      uri = ""
    }' | sort -u
}

build_local_base() {
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    can_apt_install || die "mmdebstrap is needed to build the base image offline"
    log "installing mmdebstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  fi
  local sources
  sources="$(mktemp)"
  host_debian_sources >"$sources"
  if [[ ! -s "$sources" ]]; then
    log "no Debian bookworm sources found in apt's lists; using mmdebstrap's default mirrors"
    rm -f "$sources"
    sources=""
  fi
  local include
  include="$(IFS=,; echo "${BASE_PACKAGES[*]}")"
  log "building $LOCAL_BASE_IMAGE with mmdebstrap (bookworm, minbase + $include)"
  local start=$SECONDS
  # shellcheck disable=SC2086,SC2016 # $sources: one path or nothing; "$1" is the hook's argument
  mmdebstrap --variant=minbase --format=tar --quiet \
    --include="$include" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
    bookworm - ${sources} |
    docker import --change 'CMD ["/bin/bash"]' --change 'LABEL org.prober.fixture="base"' \
      - "$LOCAL_BASE_IMAGE" >/dev/null
  [[ -z "$sources" ]] || rm -f "$sources"
  log "base image built in $((SECONDS - start))s"
}

# Prints the base image to build from: the upstream slim image when it is here or can be
# pulled (as for users with a registry), else a local one built offline.
choose_base_image() {
  if image_exists "$UPSTREAM_BASE_IMAGE"; then
    echo "$UPSTREAM_BASE_IMAGE"
  elif [[ "${PROBER_FIXTURE_PULL:-1}" == 1 ]] && timeout 120 docker pull --quiet "$UPSTREAM_BASE_IMAGE" >/dev/null 2>&1; then
    log "pulled $UPSTREAM_BASE_IMAGE"
    echo "$UPSTREAM_BASE_IMAGE"
  elif image_exists "$LOCAL_BASE_IMAGE"; then
    log "no $UPSTREAM_BASE_IMAGE to pull; reusing $LOCAL_BASE_IMAGE"
    echo "$LOCAL_BASE_IMAGE"
  else
    log "no $UPSTREAM_BASE_IMAGE to pull; building a local base offline"
    build_local_base
    echo "$LOCAL_BASE_IMAGE"
  fi
}

# --- 3. secrets -------------------------------------------------------------------------------
random_password() { # 20 random letters and digits
  local chars
  chars="$(head -c 48 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9')"
  printf '%s' "${chars:0:20}"
}

write_secret() { # NAME VALUE: the value alone, no trailing newline; an existing file is kept
  local file="$GENERATED/$1"
  [[ -s "$file" ]] && return 0
  (umask 077 && printf '%s' "$2" >"$file")
  NEW_SECRETS+=("$1")
}

generate_secrets() {
  NEW_SECRETS=()
  mkdir -p "$GENERATED"
  chmod 700 "$GENERATED"
  write_secret root.password "$(random_password)"
  write_secret admin.password "$(random_password)"
  # The password of the pushed system users that log in by password.
  write_secret system.password "$(random_password)"
  # A JumpServer user's password on the gateway fixture.
  write_secret jms.password "$(random_password)"
  # A password that is deliberately nobody's (the wrong-password fixtures).
  local wrong
  wrong="$(random_password)"
  while grep -qxF -- "$wrong" "$GENERATED/admin.password" "$GENERATED/system.password" "$GENERATED/jms.password"; do
    wrong="$(random_password)"
  done
  write_secret wrong.password "$wrong"
  # Keys: admin's ed25519 and RSA keys, and the system users' key.
  local key bits
  for key in admin_ed25519 admin_rsa deploy_ed25519 jms_ed25519; do
    if [[ ! -s "$GENERATED/$key" || ! -s "$GENERATED/$key.pub" ]]; then
      rm -f "$GENERATED/$key" "$GENERATED/$key.pub"
      bits=()
      [[ "$key" == *_rsa ]] && bits=(-t rsa -b 3072)
      [[ "$key" == *_ed25519 ]] && bits=(-t ed25519)
      ssh-keygen -q "${bits[@]}" -N '' -C "prober-fixture-$key" -f "$GENERATED/$key"
      NEW_SECRETS+=("$key")
    fi
  done
  if ((${#NEW_SECRETS[@]})); then
    log "generated in fixtures/generated/: ${NEW_SECRETS[*]}"
  else
    log "reusing the secrets in fixtures/generated/"
  fi
}

# --- 5. wait for health -----------------------------------------------------------------------
service_states() { # prints "name status health" per container of the project
  local ids # all of the project's containers, running or not (compose v2's `ps` hides stopped ones)
  ids="$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT")"
  [[ -n "$ids" ]] || return 0
  # shellcheck disable=SC2086 # word splitting of the id list is intended
  docker inspect --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' $ids |
    sed 's#^/##'
}

wait_healthy() {
  local expected start=$SECONDS states not_ready
  expected="$(compose config --services | wc -l)"
  log "waiting up to ${HEALTH_TIMEOUT}s for $expected services to be healthy"
  while true; do
    states="$(service_states)"
    not_ready="$(awk '$2 != "running" || $3 != "healthy"' <<<"$states")"
    if [[ -z "$not_ready" && "$(grep -c . <<<"$states")" -eq "$expected" ]]; then
      log "all $expected services healthy after $((SECONDS - start))s"
      return 0
    fi
    if ((SECONDS - start >= HEALTH_TIMEOUT)); then
      log "timed out; services not healthy:"
      printf '  %s\n' "${not_ready//$'\n'/$'\n  '}" >&2
      local name _
      while read -r name _; do
        [[ -n "$name" ]] || continue
        log "---- $name: last health check output"
        docker inspect --format '{{if .State.Health}}{{range .State.Health.Log}}{{.ExitCode}}: {{.Output}}{{end}}{{end}}' "$name" | tail -n 5 >&2 || true
        log "---- $name: logs"
        docker logs --tail 40 "$name" >&2 2>&1 || true
      done <<<"$not_ready"
      die "fixtures not healthy within ${HEALTH_TIMEOUT}s"
    fi
    sleep 1
  done
}

# --- 4. the gateway fixture's program ---------------------------------------------------------
# The gateway fixture runs the fixtures crate's fake-koko, built here for this machine (the
# image is Debian bookworm like the machines this runs on) and mounted with the secrets.
build_fake_koko() {
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the gateway fixture (fake-koko)"
  log "building fake-koko"
  (cd "$FIXTURES_ROOT" && cargo build --quiet -p fixtures --bin fake-koko)
  local target_dir="${CARGO_TARGET_DIR:-$FIXTURES_ROOT/target}"
  mkdir -p "$GENERATED/bin"
  install -m 0755 "$target_dir/debug/fake-koko" "$GENERATED/bin/fake-koko"
}

# --- 6. the internal network, unreachable from here ----------------------------------------
# This machine has no address on the internal network, so a stray direct probe of it would
# follow the default route off the machine: an unreachable route makes it fail here instead.
block_internal_network() {
  if [[ "$(id -u)" == 0 ]] && command -v ip >/dev/null 2>&1; then
    ip route replace unreachable "$INTERNAL_SUBNET"
    log "route to $INTERNAL_SUBNET: unreachable"
  else
    log "not root: no unreachable route for $INTERNAL_SUBNET (a direct probe of it would leave this machine)"
  fi
}

main() {
  ensure_docker
  local base start
  base="$(choose_base_image)"
  generate_secrets
  build_fake_koko
  log "building $FIXTURE_IMAGE from $base"
  start=$SECONDS
  docker build --quiet --build-arg "BASE_IMAGE=$base" --tag "$FIXTURE_IMAGE" \
    "$FIXTURES_ROOT/fixtures/containers" >/dev/null
  # The previous build, if this one replaced it, is left untagged: drop it.
  docker image prune --force --filter label=org.prober.fixture=image >/dev/null
  log "image built in $((SECONDS - start))s"
  start=$SECONDS
  # Fresh containers every time: no state (the gateway's lockout counts, learned host keys)
  # carries over from an earlier run.
  compose up -d --remove-orphans --force-recreate
  block_internal_network
  wait_healthy
  log "fixtures up in $((SECONDS - start))s (compose project '$COMPOSE_PROJECT', network $LAB_NETWORK)"
}

main "$@"
