#!/usr/bin/env bash
# The project's test command, run by CI on a fresh machine:
#   1. what the tests need: openssh-server (for the real-sshd test; its service is not started);
#   2. unit, in-process and real-sshd tests (cargo test);
#   3. the docker compose fixtures: real OpenSSH hosts, one per failure mode (scripts/compose-test.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[test] %s\n' "$*" >&2; }

if [[ ! -x /usr/sbin/sshd ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing openssh-server (without starting its service)"
    # policy-rc.d keeps the package from starting sshd on this machine.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  else
    log "openssh-server is missing and cannot be installed here (needs root and apt-get)"
    exit 1
  fi
fi

log "cargo test --workspace"
cargo test --workspace --locked

log "compose fixtures"
scripts/compose-test.sh
