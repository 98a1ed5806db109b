#!/usr/bin/env bash
# Fidelity check of the fixture lab: for each fixture, the real OpenSSH client (or a plain DNS
# query) shows the symptom users really report, and the script asserts it. One PASS/FAIL line per
# fixture; exit status 1 if any fails. Needs the fixtures up (scripts/fixtures-up.sh). A fixture is
# a service of docker-compose.yml, and its address is the one its running container has.
#
#   scripts/fidelity.sh [-v] [FIXTURE...]     -v: print every command's output
#   scripts/fidelity.sh --list                the fixtures it checks, one a line (needs no docker)

# Remote commands are single-quoted on purpose: they expand on the fixture, not here.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib-fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-fixtures.sh"

GEN="$FIXTURES_ROOT/fixtures/generated"
# Deliberately no fixture's: tests/compose_files.rs checks that no service has it.
NO_SUCH_ASSET=172.29.77.99
VERBOSE=0
if [[ "${1:-}" == -v ]]; then VERBOSE=1; shift; fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Prints the password file named by $PASSWORD_FILE: OpenSSH's askpass, instead of sshpass.
cat >"$WORK/askpass" <<'EOF'
#!/bin/sh
exec head -n 1 "$PASSWORD_FILE"
EOF
chmod 0700 "$WORK/askpass"

# Given AFTER each call's own options: for ssh, the first value given for an option wins.
SSH_DEFAULTS=(-o ConnectTimeout=5
  -o UserKnownHostsFile="$WORK/known_hosts" -o GlobalKnownHostsFile=/dev/null
  -o StrictHostKeyChecking=accept-new -o IdentityAgent=none -o IdentitiesOnly=yes)

OUT="" RC=0 WHY="" EVIDENCE=""

# run CMD...: runs without stdin; OUT = stdout+stderr (CRs and ssh's "Permanently added" notes
# removed), RC = exit status.
run() {
  OUT="$("$@" </dev/null 2>&1)" && RC=0 || RC=$?
  OUT="$(tr -d '\r' <<<"$OUT" | grep -v '^Warning: Permanently added' || true)"
  if ((VERBOSE)); then
    printf '    $ %s  (exit %s)\n' "${*: -2}" "$RC" >&2
    printf '    | %s\n' "${OUT//$'\n'/$'\n    | '}" >&2
  fi
}
# key_ssh KEYNAME HOST [SSH-OPTIONS...] COMMAND: admin (or $SSH_USER) logs in with generated/KEYNAME.
key_ssh() {
  local key="$1" host="$2"
  shift 2
  run /usr/bin/ssh -F /dev/null "${@:1:$#-1}" "${SSH_DEFAULTS[@]}" -o BatchMode=yes \
    -o PreferredAuthentications=publickey -i "$GEN/$key" -l "${SSH_USER:-admin}" "$host" "${@: -1}"
}
# pw_ssh PASSWORDFILE USER HOST [SSH-OPTIONS...] COMMAND: password login through SSH_ASKPASS.
pw_ssh() {
  local file="$1" user="$2" host="$3"
  shift 3
  PASSWORD_FILE="$GEN/$file" SSH_ASKPASS="$WORK/askpass" SSH_ASKPASS_REQUIRE=force \
    run /usr/bin/ssh -F /dev/null "${@:1:$#-1}" "${SSH_DEFAULTS[@]}" -o BatchMode=no \
    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
    -o PreferredAuthentications=password,keyboard-interactive -l "$user" "$host" "${@: -1}"
}
# ok TEXT: the check passed, TEXT is what users would see.
ok() { EVIDENCE="$*"; }
# Assertions on the last run; on failure they set WHY.
has() { grep -qE -- "$1" <<<"$OUT" || { WHY="expected /$1/, got: $(tail -n 3 <<<"$OUT" | tr '\n' ' ')"; return 1; }; }
lacks() { ! grep -qE -- "$1" <<<"$OUT" || { WHY="unexpected /$1/ in: $(tr '\n' ' ' <<<"$OUT")"; return 1; }; }
rc_is() { [[ "$RC" == "$1" ]] || { WHY="expected exit $1, got $RC: $(tail -n 3 <<<"$OUT" | tr '\n' ' ')"; return 1; }; }

ADMIN_IS_ROOT_VIA_SUDO='printf "uid=%s sudo_uid=%s\n" "$(id -u)" "$(sudo -n id -u)"'

# ---- one function per fixture: assert the symptom, `ok` the line users would see ---------------

check_healthy-root() {
  pw_ssh root.password root "$ADDR" 'id -u && sudo -n true && echo sudo-ok'
  rc_is 0 && has '^0$' && has '^sudo-ok$' && ok "root password login: id -u = 0"
}
check_healthy-sudo() {
  key_ssh admin_ed25519 "$ADDR" "$ADMIN_IS_ROOT_VIA_SUDO"
  rc_is 0 && has '^uid=[1-9][0-9]* sudo_uid=0$' && ok "ed25519 key login, $OUT"
}
check_healthy-rsa() {
  key_ssh admin_rsa "$ADDR" -o PubkeyAcceptedAlgorithms=rsa-sha2-512,rsa-sha2-256 "$ADMIN_IS_ROOT_VIA_SUDO"
  rc_is 0 && has '^uid=[1-9][0-9]* sudo_uid=0$' || return 1
  key_ssh admin_rsa "$ADDR" -o PubkeyAcceptedAlgorithms=ssh-rsa 'true'
  rc_is 255 && has 'Permission denied \(publickey' || return 1
  ok "RSA key with rsa-sha2-512/256: login and sudo ok; with SHA-1 ssh-rsa only: $(grep 'Permission denied' <<<"$OUT")"
}
check_wrong-password() {
  pw_ssh wrong.password admin "$ADDR" 'true'
  rc_is 255 && has 'Permission denied \(publickey,password\)' || return 1
  local seen="$OUT"
  pw_ssh admin.password admin "$ADDR" 'true'
  rc_is 0 && ok "$(grep 'Permission denied' <<<"$seen") (the right password works)"
}
check_pubkey-only() {
  pw_ssh admin.password admin "$ADDR" 'true'
  rc_is 255 && has 'Permission denied \(publickey\)\.' || return 1
  local seen="$OUT"
  key_ssh admin_ed25519 "$ADDR" 'true'
  rc_is 0 && ok "password: $(grep 'Permission denied' <<<"$seen") (the key works)"
}
check_not-privileged() {
  key_ssh admin_ed25519 "$ADDR" 'LC_ALL=C sudo -n true; echo "rc=$?"; id -Gn; LC_ALL=C sudo -n -v'
  has '^sudo: a password is required$' && has '^rc=1$' && has '^admin$' &&
    has '^Sorry, user admin may not run sudo on ' &&
    ok "sudo -n true: 'sudo: a password is required'; sudo -n -v: '$(grep Sorry <<<"$OUT")'"
}
check_sudo-password() {
  key_ssh admin_ed25519 "$ADDR" 'LC_ALL=C sudo -n true; echo "rc=$?"; id -Gn; LC_ALL=C sudo -n -v'
  has '^rc=1$' && has '^admin sudo$' && lacks 'Sorry' &&
    [[ "$(grep -c '^sudo: a password is required$' <<<"$OUT")" == 2 ]] &&
    ok "sudo -n true / sudo -n -v: 'sudo: a password is required' (groups: admin sudo)"
}
check_sudo-requiretty() {
  key_ssh admin_ed25519 "$ADDR" 'LC_ALL=C sudo -n true'
  rc_is 1 && has '^sudo: sorry, you must have a tty to run sudo$' || return 1
  local seen="$OUT"
  key_ssh admin_ed25519 "$ADDR" -tt 'sudo -n true'
  rc_is 0 && ok "$seen (with ssh -tt it works)"
}
check_no-python() {
  key_ssh admin_ed25519 "$ADDR" \
    'command -v python3 python python2 /usr/bin/python /usr/libexec/platform-python; echo "rc=$?"; sudo -n true && echo sudo-ok'
  has '^rc=1$' && lacks '/' && has '^sudo-ok$' && ok "no python3, python, python2, /usr/libexec/platform-python"
}
check_tmp-readonly() {
  key_ssh admin_ed25519 "$ADDR" \
    'for d in /tmp /var/tmp "$HOME"; do mkdir "$d/probe.$$" && echo "WRITABLE $d"; done; LC_ALL=C mktemp; true'
  lacks WRITABLE && [[ "$(grep -c 'Permission denied' <<<"$OUT")" == 4 ]] &&
    has "^mktemp: failed to create file via template '/tmp/tmp" &&
    ok "mkdir fails in /tmp, /var/tmp and \$HOME; $(grep '^mktemp' <<<"$OUT")"
}
check_nologin-admin() {
  key_ssh admin_ed25519 "$ADDR" 'id -u'
  rc_is 1 && has '^This account is currently not available\.$' && ok "$OUT (exit 1)"
}
check_hosts-deny() {
  # libwrap keeps the refused connection open 5 s (it sleeps before exiting): wait longer than that.
  key_ssh admin_ed25519 "$ADDR" -o ConnectTimeout=10 'true'
  rc_is 255 && has '^kex_exchange_identification: read: Connection reset by peer$' &&
    ok "kex_exchange_identification: read: Connection reset by peer"
}
check_slow-banner() {
  key_ssh admin_ed25519 "$ADDR" -o ConnectTimeout=5 'true'
  rc_is 255 && has '^Connection timed out during banner exchange$' || return 1
  # ...but the host is only slow, not dead: started at the top, with a 40 s timeout.
  wait "$SLOW_LOGIN_PID" || { WHY="the slow login never succeeded: $(cat "$WORK/slow-login")"; return 1; }
  ok "ConnectTimeout=5: Connection timed out during banner exchange; $(cat "$WORK/slow-login")"
}
check_firewall-drop() {
  key_ssh admin_ed25519 "$ADDR" -o ConnectTimeout=3 'true'
  rc_is 255 && has "^ssh: connect to host $ADDR port 22: Connection timed out$" && ok "$OUT"
}
check_firewall-reject() {
  key_ssh admin_ed25519 "$ADDR" -o ConnectTimeout=3 'true'
  rc_is 255 && has "^ssh: connect to host $ADDR port 22: No route to host$" && ok "$OUT"
}
check_sshd-down() {
  key_ssh admin_ed25519 "$ADDR" 'true'
  rc_is 255 && has "^ssh: connect to host $ADDR port 22: Connection refused$" && ok "$OUT"
}
check_not-ssh() {
  key_ssh admin_ed25519 "$ADDR" -v 'true'
  rc_is 255 && has '^kex_exchange_identification: Connection closed by remote host$' &&
    has 'banner line 0: <!DOCTYPE HTML>' &&
    ok "kex_exchange_identification: Connection closed by remote host (HTML seen as pre-banner lines)"
}
check_legacy-kex() {
  key_ssh admin_ed25519 "$ADDR" 'true'
  rc_is 255 && has "^Unable to negotiate with $ADDR port 22: no matching key exchange method found\. Their offer: diffie-hellman-group1-sha1,diffie-hellman-group14-sha1" || return 1
  local seen="$OUT"
  pw_ssh admin.password admin "$ADDR" -o KexAlgorithms=diffie-hellman-group14-sha1,diffie-hellman-group1-sha1 \
    -o HostKeyAlgorithms=ssh-rsa -o Ciphers=aes128-cbc,aes256-cbc,3des-cbc -o MACs=hmac-sha1 \
    "$ADMIN_IS_ROOT_VIA_SUDO"
  rc_is 0 && has '^uid=[1-9][0-9]* sudo_uid=0$' && ok "$(grep -o 'no matching key exchange.*' <<<"$seen") (with the legacy algorithms: login and sudo ok)"
}
check_hostkey-changed() {
  cp "$FIXTURES_ROOT/fixtures/known_hosts" "$WORK/recorded_known_hosts"
  key_ssh admin_ed25519 "$ADDR" -o UserKnownHostsFile="$WORK/recorded_known_hosts" -o StrictHostKeyChecking=yes 'true'
  rc_is 255 && has 'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!' && has '^Host key verification failed\.$' || return 1
  key_ssh admin_ed25519 "$ADDR" 'true'
  rc_is 0 && ok "REMOTE HOST IDENTIFICATION HAS CHANGED / Host key verification failed. (fresh known_hosts: ok)"
}
check_dns() {
  cat >"$WORK/dns.py" <<'EOF'
import socket, struct, sys

def query(name, qtype, timeout):
    packet = struct.pack(">HHHHHH", 0x5150, 0x0100, 1, 0, 0, 0)
    packet += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet += struct.pack(">HH", qtype, 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.sendto(packet, (sys.argv[1], 53))
    try:
        reply = sock.recv(1500)
    except socket.timeout:
        return "timeout"
    rcode = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(reply[3] & 0x0F, "rcode")
    answers = struct.unpack(">H", reply[6:8])[0]
    if qtype == 1 and answers:
        # first answer after the echoed question: name pointer (2), type, class, ttl, length (10)
        rdata = len(packet) + 12
        return f"{rcode} {socket.inet_ntoa(reply[rdata:rdata + 4])}"
    return f"{rcode} answers={answers}"

for name, qtype, timeout in [("healthy-root.lab.test", 1, 3), ("noaddr.lab.test", 1, 3),
                             ("noaddr.lab.test", 28, 3), ("noaddr.lab.test", 16, 3),
                             ("missing.lab.test", 1, 3), ("host.outside.test", 1, 3),
                             ("host.slow.lab.test", 1, 5)]:
    print(f"{name} { {1: 'A', 28: 'AAAA', 16: 'TXT'}[qtype]}: {query(name, qtype, timeout)}")
EOF
  local healthy_root
  healthy_root="$(addr healthy-root)" || return 1
  run python3 "$WORK/dns.py" "$ADDR"
  has "^healthy-root.lab.test A: NOERROR ${healthy_root//./\\.}\$" && has '^noaddr.lab.test A: NOERROR answers=0$' &&
    has '^noaddr.lab.test AAAA: NOERROR answers=0$' && has '^noaddr.lab.test TXT: NOERROR answers=1$' &&
    has '^missing.lab.test A: NXDOMAIN' && has '^host.outside.test A: REFUSED' &&
    has '^host.slow.lab.test A: timeout$' &&
    ok "$(tr '\n' ';' <<<"$OUT" | sed 's/;$//; s/;/; /g')"
}

check_system-users() {
  local user evidence=()
  SSH_USER=deploy key_ssh deploy_ed25519 "$ADDR" 'id -u; sudo -n -l | tail -n 1'
  rc_is 0 && has '^1500$' && has 'NOPASSWD: /usr/bin/systemctl' || return 1
  SSH_USER=uidwrong key_ssh deploy_ed25519 "$ADDR" 'id -u'
  rc_is 0 && has '^1601$' || return 1
  SSH_USER=nologin key_ssh deploy_ed25519 "$ADDR" 'id -u'
  has '^This account is currently not available.$' || return 1
  SSH_USER=expired key_ssh deploy_ed25519 "$ADDR" 'id -u'
  rc_is 255 && has '^Your account has expired' || return 1
  SSH_USER=nosudo key_ssh deploy_ed25519 "$ADDR" 'sudo -n true'
  has '^sudo: a password is required$' || return 1
  for user in ghost widehome rootssh nokey denied; do
    SSH_USER=$user key_ssh deploy_ed25519 "$ADDR" 'id -u'
    rc_is 255 && has "^$user@$ADDR: Permission denied \\(publickey,password\\).$" || return 1
    evidence+=("$user")
  done
  pw_ssh system.password locked "$ADDR" 'id -u'
  rc_is 255 && has 'Permission denied' || return 1
  pw_ssh wrong.password pwuser "$ADDR" 'id -u'
  rc_is 255 && has 'Permission denied' || return 1
  pw_ssh system.password pwuser "$ADDR" 'id -u'
  rc_is 0 || return 1
  ok "deploy: uid 1500 + sudo rule; uidwrong: uid 1601; nologin: not available; expired: account has expired; nosudo: password required; Permission denied: ${evidence[*]} locked pwuser (its own password works)"
}
check_system-users-keysfile() {
  SSH_USER=keyed key_ssh deploy_ed25519 "$ADDR" 'id -un; test -e ~/.ssh || echo no-dot-ssh'
  rc_is 0 && has '^keyed$' && has '^no-dot-ssh$' || return 1
  SSH_USER=listed key_ssh deploy_ed25519 "$ADDR" 'id -un'
  rc_is 0 && has '^listed$' || return 1
  local user
  for user in homekeyed unkeyed; do
    SSH_USER=$user key_ssh deploy_ed25519 "$ADDR" 'id -u'
    rc_is 255 && has "^$user@$ADDR: Permission denied \\(publickey,password\\).$" || return 1
  done
  ok "keyed: logs in with the key of /etc/ssh/keys/keyed (no ~/.ssh); listed: with its second file's key; Permission denied: homekeyed (key in ~/.ssh only), unkeyed"
}
check_prepush-no-include() {
  key_ssh admin_ed25519 "$ADDR" 'echo "sudo=$(sudo -n id -u)"; echo "includes=$(sudo -n grep -c includedir /etc/sudoers)"'
  has '^sudo=0$' && has '^includes=0$' && ok "admin sudo works; /etc/sudoers has no includedir"
}
check_prepush-no-visudo() {
  key_ssh admin_ed25519 "$ADDR" 'sudo -n sh -c "command -v visudo || echo no visudo"'
  rc_is 0 && has '^no visudo$' && ok "visudo: not found"
}
check_prepush-home-taken() {
  key_ssh admin_ed25519 "$ADDR" 'ls -ld /home/deploy'
  rc_is 0 && has '^-' && ok "/home/deploy is a regular file"
}
check_prepush-uid-taken() {
  key_ssh admin_ed25519 "$ADDR" 'getent passwd 1500 | cut -d: -f1'
  rc_is 0 && has '^web$' && ok "uid 1500 belongs to web"
}

# jump_ssh JUMP TARGET COMMAND: admin logs in to TARGET through JUMP (ssh -W, like ssh -J), both
# with generated/admin_ed25519.
jump_ssh() {
  local proxy="/usr/bin/ssh -F /dev/null ${SSH_DEFAULTS[*]} -o BatchMode=yes -i $GEN/admin_ed25519 -l admin -W %h:%p $1"
  key_ssh admin_ed25519 "$2" -o ProxyCommand="$proxy" "$3"
}
check_jump-host() {
  local target
  target="$(addr internal-asset)" || return 1
  jump_ssh "$ADDR" "$target" 'sudo -n id -u'
  rc_is 0 && has '^0$' && ok "through the jump host: admin on $target, sudo id -u = 0"
}
check_jump-noforward() {
  local target
  target="$(addr internal-asset)" || return 1
  jump_ssh "$ADDR" "$target" 'true'
  rc_is 255 && has 'administratively prohibited' && ok "$(grep -m1 'prohibited' <<<"$OUT")"
}
check_internal-asset() {
  # No traffic, only this machine's own configuration. The bridge itself must have no
  # address on the internal subnet (the network is internal with inhibit_ipv4): a route
  # check alone would pass as root whatever the bridge had, since fixtures-up.sh replaces
  # the subnet's route with an unreachable one.
  run ip -4 -o addr show to "$INTERNAL_SUBNET"
  lacks 'inet ' || return 1
  run ip route get "$ADDR"
  lacks 'dev br-' || return 1
  # fixtures-up.sh, as root, makes the subnet unreachable so nothing can leave for it.
  if [[ "$(id -u)" == 0 ]]; then has 'No route to host|unreachable' || return 1; fi
  ok "no address on the internal subnet and no route through a lab bridge: $(head -n 1 <<<"$OUT")"
}

check_koko() {
  local internal twins
  internal="$(addr internal-asset)" && twins="$(addr healthy-root)" || return 1
  SSH_USER="alice@admin@$internal" key_ssh jms_ed25519 "$ADDR" -p 2222 -o LogLevel=DEBUG 'id -u'
  rc_is 0 && has '^1000$' && has 'remote software version JumpServer' || return 1
  SSH_USER="alice@admin@$NO_SUCH_ASSET" key_ssh jms_ed25519 "$ADDR" -p 2222 'id -u'
  has 'No found asset' || return 1
  # koko's registry has two assets (twin-a, twin-b) at healthy-root's address.
  SSH_USER="alice@admin@$twins" key_ssh jms_ed25519 "$ADDR" -p 2222 'id -u'
  has "Must be unique asset for $twins" || return 1
  SSH_USER=dave key_ssh admin_ed25519 "$ADDR" -p 2222 'true'
  rc_is 255 && has 'Permission denied \(publickey,password' || return 1
  run timeout 5 bash -c "exec 3<>/dev/tcp/$ADDR/5000 && printf 'GET / HTTP/1.1\r\nHost: koko\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: cHJvYmVy\r\nSec-WebSocket-Version: 13\r\n\r\n' >&3 && head -n 1 <&3"
  has '^HTTP/1.1 101' || return 1
  ok "banner JumpServer; alice@admin@$internal 'id -u' = 1000; No found asset; Must be unique asset; unregistered key: Permission denied; port 5000: 101"
}

# ---- main --------------------------------------------------------------------------------------

# The run list is every check_ function, so that none can be left out of it.
mapfile -t ALL < <(declare -F | sed -n 's/^declare -f check_//p')
if [[ "${1:-}" == --list ]]; then
  printf '%s\n' "${ALL[@]}"
  exit 0
fi
SELECTED=("${ALL[@]}")
[[ $# -eq 0 ]] || SELECTED=("$@")
load_addresses

if [[ " ${SELECTED[*]} " == *" slow-banner "* ]]; then
  # The slow host does answer, after its resolver timeout (20 s): log in with a 40 s timeout, in
  # the background while the other checks run.
  (
    start=$SECONDS
    host="$(addr slow-banner)" || exit 1
    key_ssh admin_ed25519 "$host" -o ConnectTimeout=40 true
    if ((RC == 0)); then
      echo "ConnectTimeout=40: login ok after $((SECONDS - start)) s" >"$WORK/slow-login"
    else
      echo "$OUT" >"$WORK/slow-login"
      exit 1
    fi
  ) &
  SLOW_LOGIN_PID=$!
fi

failed=0
for fixture in "${SELECTED[@]}"; do
  declare -F "check_$fixture" >/dev/null || die "no check for fixture '$fixture'"
  WHY="" EVIDENCE=""
  # ADDR: the address of the fixture being checked, which its check_ function probes.
  ADDR="$(addr "$fixture")" || WHY="no running container for it"
  if [[ -z "$WHY" ]] && "check_$fixture"; then
    printf 'PASS %-16s %s\n' "$fixture" "$EVIDENCE"
  else
    printf 'FAIL %-16s %s\n' "$fixture" "${WHY:-check failed}"
    failed=$((failed + 1))
  fi
done
echo "fidelity: $((${#SELECTED[@]} - failed)) passed, $failed failed"
((failed == 0))
