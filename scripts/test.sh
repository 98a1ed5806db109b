#!/usr/bin/env bash
# The project's test command, run by CI on a fresh machine:
#   1. what the tests need: openssh-server (for the real-sshd test; its service is not started),
#      xmllint (libxml2-utils, to check JUnit against its schema) and shellcheck, from Debian's
#      packages when missing;
#   2. the habits: cargo fmt --check, cargo clippy -D warnings, shellcheck on every script;
#   3. unit, in-process and real-sshd tests (cargo test);
#   4. the README's quickstart command, exactly as the README writes it;
#   5. the docker compose fixtures: real OpenSSH hosts, one per failure mode (scripts/compose-test.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[test] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt_install PACKAGE...: from Debian's packages, without starting any service they bring.
apt_install() {
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "$* missing and cannot be installed here (needs root and apt-get)"
  fi
  log "installing $*"
  # policy-rc.d keeps a package (openssh-server) from starting its service on this machine.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  trap - EXIT
}

missing=()
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
((${#missing[@]} == 0)) || apt_install "${missing[@]}"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "shellcheck"
mapfile -t scripts < <(git ls-files '*.sh' ':!:fixtures/containers/scenarios/*')
shellcheck "${scripts[@]}" .ci/run
# Scenario files have no shebang: the containers' entrypoint sources them with bash.
shellcheck --shell=bash fixtures/containers/scenarios/*.sh

log "cargo test --workspace"
cargo test --workspace --locked

# The README's first command is the product's front door: run it as written.
quickstart="$(awk '/^## Quickstart/ { on = 1 } on && /^cargo run/ { print; exit }' README.md)"
quickstart="${quickstart%%[[:space:]]#*}"
[[ -n "$quickstart" ]] || die "README.md's Quickstart has no cargo run command"
log "README quickstart: $quickstart"
bash -c "$quickstart" || die "the README's quickstart command failed: $quickstart"

log "compose fixtures"
scripts/compose-test.sh
