#!/usr/bin/env bash
# Lifecycle self-test for lab.sh:  lab/selftest.sh [ROUNDS]   (default 3)
# up, up again (must refuse), status, fail 2 (prefix b must *time out*, a and c work),
# heal 2, verify, down, nothing left behind, down again (no error).
set -euo pipefail
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab.sh
ROUNDS=${1:-3}
export LAB_STATE=${LAB_STATE:-/run/nat64-health-lab}
ms() { date +%s%3N; }
die() { echo "SELFTEST FAIL: $*" >&2; exit 1; }
# connect ADDR -> "200" | "timeout" | "error rc=N" (curl, 3 s connect timeout)
connect() {
  local rc=0 out
  out=$("$LAB" exec client curl -g -sS -o /dev/null -w '%{http_code}' --connect-timeout 3 --max-time 5 "http://[$1]/" 2>/dev/null) || rc=$?
  case $rc in 0) echo "$out" ;; 28) echo timeout ;; *) echo "error rc=$rc" ;; esac
}
A=2001:db8:64:a::c000:20a B=2001:db8:64:b::c000:20a C=2001:db8:64:c:c0:2:a00:0

"$LAB" down >/dev/null
for ((r = 1; r <= ROUNDS; r++)); do
  echo "=== round $r"
  t=$(ms); "$LAB" up >/tmp/nhlab-selftest-up.log 2>&1 || { cat /tmp/nhlab-selftest-up.log; die "up"; }
  echo "up: $(($(ms) - t)) ms"
  if "$LAB" up >/dev/null 2>&1; then die "second up did not refuse"; fi
  "$LAB" status
  "$LAB" fail 2
  t=$(ms); rb=$(connect $B); tb=$(($(ms) - t))
  ra=$(connect $A); rc=$(connect $C)
  echo "after fail 2: a=$ra b=$rb (${tb} ms) c=$rc"
  [[ $ra == 200 && $rc == 200 && $rb == timeout && $tb -ge 2900 ]] || die "fail 2 behaviour"
  "$LAB" verify >/dev/null || die "verify while gw2 failed"
  "$LAB" heal 2
  rb=$(connect $B); echo "after heal 2: b=$rb"
  [[ $rb == 200 ]] || die "heal 2"
  "$LAB" verify | tail -n 1
  t=$(ms); "$LAB" down; echo "down: $(($(ms) - t)) ms"
  left=$(ip netns list | grep -c '^nhlab-' || true)
  [[ $left == 0 ]] || die "namespaces left: $(ip netns list)"
  ! pgrep -x tayga >/dev/null || die "tayga left: $(pgrep -ax tayga)"
  ! pgrep -x named >/dev/null || die "named left: $(pgrep -ax named)"
  ! pgrep -f 'lab/http-server.mjs' >/dev/null || die "http-server left"
  [[ ! -e $LAB_STATE ]] || die "state dir left"
  "$LAB" down >/dev/null || die "down without up"
done
echo "SELFTEST OK ($ROUNDS rounds)"
