#!/usr/bin/env bash
# Full fixture-lab test: fixtures up, the Rust compose test (ignored by default, so run with
# --ignored), the OpenSSH fidelity check, then teardown, also when anything fails.
#
#   scripts/compose-test.sh
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib-fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-fixtures.sh"
cd "$FIXTURES_ROOT"

teardown() {
  local status=$?
  log "tearing the fixtures down"
  scripts/fixtures-down.sh || status=1
  exit "$status"
}
trap teardown EXIT

scripts/fixtures-up.sh

failed=0
log "cargo test --locked --test integration compose:: -- --ignored --nocapture"
cargo test --locked --test integration compose:: -- --ignored --nocapture || failed=1
log "scripts/fidelity.sh"
scripts/fidelity.sh || failed=1

((failed == 0)) || die "compose test failed"
log "compose test passed"
