#!/usr/bin/env bash
# nat64-health lab: three TAYGA NAT64 gateways, an IPv4-only "internet" host,
# an authoritative and a DNS64 BIND, and an IPv6-only client, all in network
# namespaces named nhlab-*.  See lab/README.md.
#
#   lab.sh up | down | status | fail N | heal N | loss N PCT | stop-service S | start-service S
#          | verify | exec NS CMD... | synth IPV4...
#
# Only documentation addresses are used and none of the namespaces has a link to
# the host (root) namespace, so no lab packet can ever leave the box.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${LAB_STATE:-/run/nat64-health-lab}
NSP=nhlab-                                        # namespace name prefix
NAMESPACES=(v4 gw1 gw2 gw3 core resolver client)  # short names, creation order
GWS=(1 2 3)

# ---- addressing plan (documentation ranges only) -----------------------------
CORE_NET=2001:db8:100::/64
RESOLVER6=2001:db8:100::53
CLIENT6=2001:db8:100::100
declare -A GW6=([1]=2001:db8:100::1 [2]=2001:db8:100::2 [3]=2001:db8:100::3)
declare -A PREFIX=([1]=2001:db8:64:a::/96 [2]=2001:db8:64:b::/96 [3]=2001:db8:64:c::/64)
declare -A POOL=([1]=203.0.113.64/27 [2]=203.0.113.96/27 [3]=203.0.113.128/27)   # TAYGA dynamic pools
declare -A TAYGA4=([1]=203.0.113.65 [2]=203.0.113.97 [3]=203.0.113.129)        # TAYGA's own IPv4
# point-to-point IPv4 links to the v4 host: v4 side .1/.5/.9/.13, far side .2/.6/.10/.14
declare -A LINK_V4=([1]=203.0.113.1 [2]=203.0.113.5 [3]=203.0.113.9 [resolver]=203.0.113.13)
declare -A LINK_FAR=([1]=203.0.113.2 [2]=203.0.113.6 [3]=203.0.113.10 [resolver]=203.0.113.14)
WWW4=192.0.2.10
SVC4=198.51.100.10
AUTH4=192.0.2.53
ZONE=example.test

ts_ms() { date +%s%3N; }
say() { printf '%s\n' "$*"; }
warn() { printf 'lab: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }
ns() { # short or full name -> full namespace name
  case "$1" in "$NSP"*) printf '%s' "$1" ;; *) printf '%s%s' "$NSP" "$1" ;; esac
}
nsx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
ns_exists() { [[ -e /run/netns/$(ns "$1") ]]; }
need_root() { [[ $EUID -eq 0 ]] || die "must run as root"; }

# ---- RFC 6052 address synthesis (pure bash) ---------------------------------
# expand6 ADDR -> 16 space-separated decimal bytes
expand6() {
  local a=$1 head tail; local -a h=() t=() g=()
  if [[ $a == *::* ]]; then head=${a%%::*}; tail=${a#*::}; else head=$a; tail=; fi
  [[ -n $head ]] && IFS=: read -r -a h <<<"$head"
  [[ -n $tail ]] && IFS=: read -r -a t <<<"$tail"
  g=("${h[@]}")
  local i fill=$((8 - ${#h[@]} - ${#t[@]}))
  for ((i = 0; i < fill; i++)); do g+=(0); done
  g+=("${t[@]}")
  local out=()
  for i in "${g[@]}"; do out+=($((16#$i >> 8)) $((16#$i & 255))); done
  printf '%s ' "${out[@]}"
}
# compress6 16 bytes -> RFC 5952 text (same form dig prints)
compress6() {
  local -a b=("$@") g=(); local i
  for ((i = 0; i < 8; i++)); do g+=($((b[2 * i] * 256 + b[2 * i + 1]))); done
  local best=-1 bestlen=0 cur=-1 curlen=0
  for ((i = 0; i < 8; i++)); do
    if ((g[i] == 0)); then
      ((cur < 0)) && { cur=$i; curlen=0; }
      curlen=$((curlen + 1))
      ((curlen > bestlen)) && { best=$cur; bestlen=$curlen; }
    else cur=-1; fi
  done
  ((bestlen < 2)) && best=-1
  local s= sep=
  for ((i = 0; i < 8; i++)); do
    if ((best >= 0 && i == best)); then s+="::"; sep=; i=$((i + bestlen - 1)); continue; fi
    s+="$sep$(printf '%x' "${g[i]}")"; sep=:
  done
  printf '%s' "$s"
}
# synth PREFIX/LEN IPV4 -> synthesized IPv6 address (RFC 6052 section 2.2)
synth() {
  local pfx=${1%/*} len=${1#*/} v4=$2 i
  local -a b o
  read -r -a b <<<"$(expand6 "$pfx")"
  IFS=. read -r -a o <<<"$v4"
  case $len in 32 | 40 | 48 | 56 | 64 | 96) ;; *) die "bad NAT64 prefix length /$len" ;; esac
  for ((i = len / 8; i < 16; i++)); do b[i]=0; done   # clear host part incl. u-octet (bits 64..71)
  local pos=$((len / 8))
  for i in 0 1 2 3; do
    ((pos == 8)) && pos=9                             # skip the u-octet
    b[pos]=${o[i]}; pos=$((pos + 1))
  done
  compress6 "${b[@]}"
}

# ---- process bookkeeping ----------------------------------------------------
# start_bg NAME NS LOGFILE CMD... : start CMD inside NS in the background, record PID
# in $STATE/pids/NAME.  The subshell execs `ip netns exec`, which execs the command
# (no fork), so $! is the daemon's own PID.  stdio goes to LOGFILE and every other
# inherited fd is closed, so a caller capturing our output (pipe, $(...), execa) is
# not held open by the daemons.
start_bg() {
  local name=$1 n; n=$(ns "$2"); local log=$3; shift 3
  (
    for fd in /proc/self/fd/*; do fd=${fd##*/}; if ((fd > 2)); then exec {fd}>&-; fi; done
    exec ip netns exec "$n" "$@"
  ) >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE/pids/$name"
}
pid_of() { [[ -s $STATE/pids/$1 ]] && cat "$STATE/pids/$1"; }
alive() { # alive NAME -> true if the recorded PID still runs the expected program
  local pid; pid=$(pid_of "$1" 2>/dev/null) || return 1
  [[ -n $pid && -d /proc/$pid ]] || return 1
  local exe; exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  case $1 in
    tayga*) [[ $exe == */tayga ]] ;;
    named*) [[ $exe == */named ]] ;;
    http | echo) [[ $exe == */node ]] ;;
    *) return 1 ;;
  esac
}
running() { # running NAME -> recorded PID exists and is not a zombie (may still be exec'ing)
  local pid; pid=$(pid_of "$1" 2>/dev/null) || return 1
  [[ -n $pid && -d /proc/$pid && $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]]
}
stop_proc() { # stop_proc NAME... : SIGTERM, wait up to ~3s, then SIGKILL
  local name pid pids=() i
  for name in "$@"; do
    if alive "$name"; then pids+=("$(pid_of "$name")"); kill -TERM "$(pid_of "$name")" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 60 && ${#pids[@]} > 0; i++)); do
    local left=()
    for pid in "${pids[@]}"; do [[ -d /proc/$pid ]] && [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]] && left+=("$pid"); done
    pids=("${left[@]+"${left[@]}"}")
    ((${#pids[@]} == 0)) || sleep 0.05
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for name in "$@"; do rm -f "$STATE/pids/$name"; done
}
# reap_wait PID... : the daemons are re-parented to PID 1 once lab.sh exits; wait (up
# to LAB_REAP_WAIT s, default 3) until it has reaped them, so `pgrep tayga` right after
# `down` is empty even where PID 1 reaps lazily (seen: ~2 s in a firecracker VM).
reap_wait() {
  local deadline=$(($(ts_ms) + ${LAB_REAP_WAIT:-3} * 1000)) pid
  for pid in "$@"; do
    while [[ -d /proc/$pid ]] && (($(ts_ms) < deadline)); do sleep 0.05; done
  done
}
wait_until() { # wait_until SECONDS DESCRIPTION PROCNAME CMD... : poll CMD every 50ms
  local secs=$1 what=$2 guard=$3; shift 3   # give up early if process PROCNAME died
  local deadline=$(($(ts_ms) + secs * 1000))
  until "$@" >/dev/null 2>&1; do
    running "$guard" || { warn "$what: process died (see logs under $STATE)"; return 1; }
    (($(ts_ms) < deadline)) || { warn "timeout waiting for: $what"; return 1; }
    sleep 0.05
  done
}

# ---- config writers ---------------------------------------------------------
write_tayga_conf() {
  local n=$1 d=$STATE/gw$1
  mkdir -p "$d/data"
  cat >"$d/tayga.conf" <<EOF
# TAYGA for nhlab-gw$n (generated by lab.sh)
tun-device nat64
ipv4-addr ${TAYGA4[$n]}
prefix ${PREFIX[$n]}
dynamic-pool ${POOL[$n]}
data-dir $d/data
EOF
}

write_auth_named() {
  local d=$STATE/v4
  mkdir -p "$d"
  cat >"$d/$ZONE.zone" <<EOF
\$TTL 30
@       IN SOA ns.$ZONE. hostmaster.$ZONE. ( 1 60 30 600 30 )
        IN NS  ns.$ZONE.
ns      IN A   $AUTH4
www     IN A   $WWW4
svc     IN A   $SVC4
two     IN A   $WWW4
two     IN A   $SVC4
EOF
  # reverse zones for the IPv4 targets: DNS64's reverse CNAME (ip6.arpa -> in-addr.arpa) ends in a PTR
  cat >"$d/rev-192.0.2.zone" <<EOF
\$TTL 30
@       IN SOA ns.$ZONE. hostmaster.$ZONE. ( 1 60 30 600 30 )
        IN NS  ns.$ZONE.
${WWW4##*.}      IN PTR www.$ZONE.
${AUTH4##*.}      IN PTR ns.$ZONE.
EOF
  cat >"$d/rev-198.51.100.zone" <<EOF
\$TTL 30
@       IN SOA ns.$ZONE. hostmaster.$ZONE. ( 1 60 30 600 30 )
        IN NS  ns.$ZONE.
${SVC4##*.}      IN PTR svc.$ZONE.
EOF
  cat >"$d/named.conf" <<EOF
// authoritative server for $ZONE in nhlab-v4 (generated by lab.sh)
options {
    directory "$d";
    pid-file "$d/named.pid";
    session-keyfile "$d/session.key";
    managed-keys-directory "$d";
    listen-on port 53 { $AUTH4; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    dnssec-validation no;
    notify no;
};
controls { };
logging {
    channel main { file "$d/named.log"; severity info; print-time yes; print-category yes; };
    category default { main; };
    category lame-servers { null; };
};
zone "$ZONE" { type primary; file "$d/$ZONE.zone"; };
zone "2.0.192.in-addr.arpa" { type primary; file "$d/rev-192.0.2.zone"; };
zone "100.51.198.in-addr.arpa" { type primary; file "$d/rev-198.51.100.zone"; };
EOF
}

write_resolver_named() {
  local d=$STATE/resolver n
  mkdir -p "$d"
  rndc-confgen -a -q -k rndc-key -c "$d/rndc.key" >/dev/null 2>&1 || rndc-confgen -a -k rndc-key -c "$d/rndc.key" >/dev/null
  cat >"$d/rndc.conf" <<EOF
include "$d/rndc.key";
options { default-key "rndc-key"; default-server 127.0.0.1; default-port 953; };
EOF
  : >"$d/dns64.conf.tmp"
  for n in "${GWS[@]}"; do
    echo "dns64 ${PREFIX[$n]} { clients { any; }; };" >>"$d/dns64.conf.tmp"
  done
  mv "$d/dns64.conf.tmp" "$d/dns64.conf"
  cat >"$d/named.conf" <<EOF
// DNS64 resolver in nhlab-resolver (generated by lab.sh)
include "$d/rndc.key";
controls { inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
    directory "$d";
    pid-file "$d/named.pid";
    session-keyfile "$d/session.key";
    managed-keys-directory "$d";
    listen-on port 53 { 127.0.0.1; };
    listen-on-v6 port 53 { $RESOLVER6; };
    recursion yes;
    allow-query { any; };
    allow-recursion { any; };
    dnssec-validation no;
    notify no;
    // keep every query inside the lab: nothing is ever sent to the real roots
    forwarders { $AUTH4; };
    forward only;
    // dns64 blocks, rewritten by nat64-health
    include "$d/dns64.conf";
};
zone "$ZONE" { type forward; forward only; forwarders { $AUTH4; }; };
// forwarding globally removes BIND's automatic ipv4only.arpa zone (RFC 8880), which nat64-health
// asks to verify what BIND serves: not forwarding this one name brings it back
zone "ipv4only.arpa" { type forward; forward first; forwarders { }; };
logging {
    channel main { file "$d/named.log"; severity info; print-time yes; print-category yes; };
    channel queries { file "$d/query.log" versions 2 size 5m; severity info; print-time yes; };
    category default { main; };
    category queries { queries; };
    category lame-servers { null; };
};
EOF
  cat >"$d/env" <<EOF
# nat64-health lab: facts about the DNS64 resolver (shell-sourceable)
LAB_STATE='$STATE'
NETNS='${NSP}resolver'
NAMED_CONF='$d/named.conf'
DNS64_FILE='$d/dns64.conf'
RNDC_CONF='$d/rndc.conf'
RNDC_KEY='$d/rndc.key'
RNDC='rndc -c $d/rndc.conf'
NAMED_CHECKCONF='named-checkconf $d/named.conf'
NAMED_PIDFILE='$d/named.pid'
NAMED_LOG='$d/named.log'
QUERY_LOG='$d/query.log'
RESOLVER_ADDR='$RESOLVER6'
CLIENT_ADDR='$CLIENT6'
PREFIXES='${PREFIX[1]} ${PREFIX[2]} ${PREFIX[3]}'
PREFIX_GW1='${PREFIX[1]}'
PREFIX_GW2='${PREFIX[2]}'
PREFIX_GW3='${PREFIX[3]}'
TARGET_HTTP='$WWW4:80'
TARGET_TCP='$SVC4:7'
TARGET_DNS='$AUTH4:53'
TARGET_UDP_ECHO='$WWW4:7'
ZONE='$ZONE'
EOF
}

# ---- topology ---------------------------------------------------------------
sysctl_ns() { local n=$1; shift; local kv; for kv in "$@"; do nsx "$n" sysctl -qw "$kv" >/dev/null; done; }

build_topology() {
  local s n
  for s in "${NAMESPACES[@]}"; do
    ip netns add "$(ns "$s")"
    nsx "$s" ip link set lo up
    # explicit, so the lab does not depend on kernel/distro defaults; DAD off so
    # IPv6 addresses are usable immediately (no 1-2 s "tentative" phase)
    sysctl_ns "$s" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  done
  for n in "${GWS[@]}"; do
    # ignore_routes_with_linkdown=0 (kernel default, made explicit): after `fail N` the
    # TUN has no reader (NO-CARRIER) and its prefix route is flagged "linkdown"; it must
    # still be used so packets are dropped silently instead of answered "no route".
    sysctl_ns "gw$n" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
      net.ipv6.conf.all.ignore_routes_with_linkdown=0 net.ipv6.conf.default.ignore_routes_with_linkdown=0
  done

  # IPv6 core: a plain bridge inside nhlab-core (L2 only, no addresses)
  ip -n "$(ns core)" link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0
  ip -n "$(ns core)" link set br0 up
  local peer
  for peer in gw1 gw2 gw3 resolver client; do
    ip link add "to-$peer" netns "$(ns core)" type veth peer name core netns "$(ns "$peer")"
    ip -n "$(ns core)" link set "to-$peer" master br0 up
    ip -n "$(ns "$peer")" link set core up
  done
  for n in "${GWS[@]}"; do ip -n "$(ns "gw$n")" -6 addr add "${GW6[$n]}/64" dev core nodad; done
  ip -n "$(ns resolver)" -6 addr add "$RESOLVER6/64" dev core nodad
  ip -n "$(ns client)" -6 addr add "$CLIENT6/64" dev core nodad

  # IPv4 point-to-point links: v4 host <-> each gateway and <-> resolver
  local k
  for k in 1 2 3 resolver; do
    local far; [[ $k == resolver ]] && far=resolver || far=gw$k
    ip link add "$far" netns "$(ns v4)" type veth peer name v4 netns "$(ns "$far")"
    ip -n "$(ns v4)" addr add "${LINK_V4[$k]}/30" dev "$far"
    ip -n "$(ns "$far")" addr add "${LINK_FAR[$k]}/30" dev v4
    ip -n "$(ns v4)" link set "$far" up
    ip -n "$(ns "$far")" link set v4 up
  done

  # v4 host: service addresses on lo; return routes for each gateway's TAYGA pool
  ip -n "$(ns v4)" addr add "$WWW4/32" dev lo
  ip -n "$(ns v4)" addr add "$AUTH4/32" dev lo
  ip -n "$(ns v4)" addr add "$SVC4/32" dev lo
  for n in "${GWS[@]}"; do ip -n "$(ns v4)" route add "${POOL[$n]}" via "${LINK_FAR[$n]}"; done

  # gateways: IPv4 "internet" via the v4 host; persistent TUN + routes into TAYGA
  for n in "${GWS[@]}"; do
    local g; g=$(ns "gw$n")
    ip -n "$g" route add 192.0.2.0/24 via "${LINK_V4[$n]}"
    ip -n "$g" route add 198.51.100.0/24 via "${LINK_V4[$n]}"
    write_tayga_conf "$n"
    # --mktun makes a *persistent* TUN: when TAYGA is killed (fail N) the device and
    # its routes stay, so packets to the prefix are silently dropped (timeouts)
    # instead of the gateway answering "no route" (fast ICMPv6 unreachable).
    ip netns exec "$g" tayga -c "$STATE/gw$n/tayga.conf" --mktun >>"$STATE/gw$n/tayga.log" 2>&1
    ip -n "$g" link set nat64 up
    ip -n "$g" -6 route add "${PREFIX[$n]}" dev nat64
    ip -n "$g" route add "${POOL[$n]}" dev nat64
  done

  # resolver: IPv6 routes to every NAT64 prefix via its gateway; IPv4 only to the
  # authoritative server (so IPv4 targets are reachable *only* through NAT64)
  for n in "${GWS[@]}"; do
    ip -n "$(ns resolver)" -6 route add "${PREFIX[$n]}" via "${GW6[$n]}" dev core
    ip -n "$(ns client)" -6 route add "${PREFIX[$n]}" via "${GW6[$n]}" dev core
  done
  ip -n "$(ns resolver)" route add "$AUTH4/32" via "${LINK_V4[resolver]}"
}

start_tayga() {
  local n=$1
  start_bg "tayga$n" "gw$n" "$STATE/gw$n/tayga.log" tayga -c "$STATE/gw$n/tayga.conf" --nodetach
  rm -f "$STATE/gw$n/failed"
}

# the v4 host's services, one process each so that `stop-service http` leaves the echo running
start_service() {
  case $1 in
    http) rm -f "$STATE/v4/http.pid"
      start_bg http v4 "$STATE/v4/http.log" node "$LAB_DIR/http-server.mjs" \
        --http "$WWW4:80" --http "$SVC4:80" --pidfile "$STATE/v4/http.pid" ;;
    echo) rm -f "$STATE/v4/echo.pid"
      start_bg echo v4 "$STATE/v4/echo.log" node "$LAB_DIR/http-server.mjs" \
        --tcp-echo "$WWW4:7" --tcp-echo "$SVC4:7" --udp-echo "$WWW4:7" --udp-echo "$SVC4:7" \
        --pidfile "$STATE/v4/echo.pid" ;;
    *) die "unknown service: $1 (http|echo)" ;;
  esac
}

start_daemons() {
  local n
  for n in "${GWS[@]}"; do start_tayga "$n"; done
  start_service http
  start_service echo
  start_bg named-auth v4 "$STATE/v4/named.stderr" named -f -4 -n 1 -c "$STATE/v4/named.conf"
  start_bg named-resolver resolver "$STATE/resolver/named.stderr" named -f -n 2 -c "$STATE/resolver/named.conf"
}

wait_ready() {
  local n
  wait_until 5 "http server" http test -s "$STATE/v4/http.pid"
  wait_until 5 "echo server" echo test -s "$STATE/v4/echo.pid"
  wait_until 5 "authoritative named" named-auth nsx v4 dig +time=1 +tries=1 +short @"$AUTH4" SOA "$ZONE"
  wait_until 5 "resolver named (rndc)" named-resolver nsx resolver rndc -c "$STATE/resolver/rndc.conf" status
  for n in "${GWS[@]}"; do wait_until 3 "gw$n TAYGA" "tayga$n" alive "tayga$n"; done
}

# ---- checks -----------------------------------------------------------------
# tcp_http NS ADDR PORT TIMEOUT -> prints the status line; rc 124 on timeout
tcp_http() {
  nsx "$1" timeout "$4" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET / HTTP/1.0\r\nHost: lab\r\n\r\n" >&3; IFS= read -r l <&3; printf "%s\n" "${l%$'"'"'\r'"'"'}"' "$2" "$3"
}
tcp_echo() {
  nsx "$1" timeout "$4" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; echo nhlab >&3; IFS= read -r l <&3; echo "$l"' "$2" "$3"
}
# Prefixes in dns64.conf that synthesize for clients (canonicalised by named-checkconf
# -p, so any formatting works). Blocks with `clients { none; };` (nat64-health's
# "draining" state) are skipped; any other clients list is assumed to match the client.
# rc 1 (and the error on stderr) if named.conf + dns64.conf do not pass named-checkconf.
dns64_prefixes() {
  local out; out=$(named-checkconf -p "$STATE/resolver/named.conf" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
  printf '%s\n' "$out" | awk '
    !blk && $1 == "dns64" { blk = 1; pfx = $2; depth = 1; incl = 0; cl = ""; next }
    blk {
      if ($1 == "clients") incl = 1
      else if (incl && $1 != "};") { x = $0; gsub(/[[:space:];"]/, "", x); cl = cl " " x }
      depth += gsub(/\{/, "{") - gsub(/\}/, "}")
      if (incl && $1 == "};") incl = 0
      if (depth == 0) { blk = 0; if (cl != " none" && cl != " !any") print pfx }
    }'
}
client_aaaa() { { nsx client dig +time=2 +tries=1 +short @"$RESOLVER6" AAAA "$1" 2>/dev/null || true; } | sort; }

cmd_verify() {
  local ok=0 fail=0 n a out expect got
  check() { if "$@"; then ok=$((ok + 1)); else fail=$((fail + 1)); fi; }
  pass() { printf '  ok    %s\n' "$*"; }
  bad() { printf '  FAIL  %s\n' "$*"; return 1; }

  # 1. DNS64 answer from the client: one synthesized AAAA per healthy prefix in dns64.conf
  local active conf_ok=1
  if active=$(dns64_prefixes 2>/dev/null); then active=" $(echo $active) "; else conf_ok=0; active=" "; fi
  expect=$(for n in "${GWS[@]}"; do
    if [[ $active == *" ${PREFIX[$n]} "* ]]; then synth "${PREFIX[$n]}" "$WWW4"; echo; fi
  done | sort)
  got=$(client_aaaa "www.$ZONE")
  dns_check() {
    if ((conf_ok == 0)); then bad "named-checkconf $STATE/resolver/named.conf fails (bad dns64.conf?)"; return; fi
    if [[ -z $expect ]]; then # no prefix configured: expect NOERROR/NODATA
      local st; st=$(nsx client dig +time=2 +tries=1 @"$RESOLVER6" AAAA "www.$ZONE" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p') || true
      if [[ -z $got && $st == NOERROR ]]; then pass "client: dig AAAA www.$ZONE -> NODATA (dns64.conf lists no prefix)"; else bad "client: dig AAAA www.$ZONE -> status '$st' answer '$(echo $got)', expected NODATA (dns64.conf lists no prefix)"; fi
      return
    fi
    if [[ $got == "$expect" ]]; then pass "client: dig AAAA www.$ZONE -> $(echo $got)"; else bad "client: dig AAAA www.$ZONE -> '$(echo $got)' expected '$(echo $expect)'"; fi; }
  check dns_check

  # 2. data plane through each gateway whose TAYGA is meant to be up
  for n in "${GWS[@]}"; do
    if [[ -e $STATE/gw$n/failed ]]; then
      a=$(synth "${PREFIX[$n]}" "$WWW4")
      hang_check() {
        local rc=0; tcp_http client "$a" 80 2 >/dev/null 2>&1 || rc=$?
        if ((rc == 124)); then pass "gw$n failed: TCP to [$a]:80 hangs (timeout, no fast error)"; else bad "gw$n failed but TCP to [$a]:80 returned rc=$rc (expected timeout)"; fi
      }
      check hang_check
      continue
    fi
    for a in "$(synth "${PREFIX[$n]}" "$WWW4")" "$(synth "${PREFIX[$n]}" "$SVC4")"; do
      for where in client resolver; do
        http_check() {
          out=$(tcp_http "$where" "$a" 80 3 2>&1) || true
          if [[ $out == "HTTP/1.1 200 OK" ]]; then pass "$where -> gw$n [$a]:80 HTTP 200"; else bad "$where -> gw$n [$a]:80: '${out}'"; fi
        }
        check http_check
      done
    done
    a=$(synth "${PREFIX[$n]}" "$SVC4")
    echo_check() {
      out=$(tcp_echo resolver "$a" 7 3 2>&1) || true
      if [[ $out == nhlab ]]; then pass "resolver -> gw$n [$a]:7 TCP echo"; else bad "resolver -> gw$n [$a]:7 TCP echo: '$out'"; fi
    }
    check echo_check
    a=$(synth "${PREFIX[$n]}" "$AUTH4")
    dns_via_check() {
      out=$(nsx resolver dig +time=2 +tries=1 +short @"$a" A "www.$ZONE" 2>&1) || true
      if [[ $out == "$WWW4" ]]; then pass "resolver -> gw$n [$a]:53 DNS (A www = $out)"; else bad "resolver -> gw$n [$a]:53 DNS: '$out'"; fi
    }
    check dns_via_check
  done
  say "verify: $ok passed, $fail failed"
  ((fail == 0))
}

# ---- commands ---------------------------------------------------------------
any_lab_ns() { local s; for s in "${NAMESPACES[@]}"; do ns_exists "$s" && return 0; done; return 1; }

up_failed() { # EXIT trap of cmd_up: show log tails, then tear down (unless LAB_KEEP_ON_FAIL=1)
  local rc=$1
  ((rc != 0)) || return 0
  set +e; trap '' PIPE   # teardown must happen even if our stdout/stderr pipe is gone
  warn "up failed (rc=$rc); last log lines:"
  tail -n 5 "$STATE"/*/*.log "$STATE"/*/named.stderr >&2 2>/dev/null
  if [[ ${LAB_KEEP_ON_FAIL:-0} == 1 ]]; then
    warn "LAB_KEEP_ON_FAIL=1: leaving the half-built lab for inspection ('$0 down' removes it)"
  else
    warn "tearing down"; cmd_down >/dev/null 2>&1
  fi
  exit "$rc"
}

cmd_up() {
  need_root
  if any_lab_ns || [[ -e $STATE/.nhlab-up ]]; then
    die "lab already up (namespaces ${NSP}* or $STATE exist); run '$0 down' first (or '$0 restart')"
  fi
  for tool in tayga named rndc rndc-confgen dig node; do command -v "$tool" >/dev/null || die "missing tool: $tool"; done
  local t0; t0=$(ts_ms)
  # on any failure: show logs and tear everything down again (LAB_KEEP_ON_FAIL=1 keeps it)
  trap 'up_failed $?' EXIT
  mkdir -p "$STATE/pids" "$STATE/v4" "$STATE/resolver"
  touch "$STATE/.nhlab-state" "$STATE/.nhlab-up"
  build_topology
  write_auth_named
  write_resolver_named
  nsx resolver named-checkconf "$STATE/resolver/named.conf"
  start_daemons
  wait_ready
  local t1; t1=$(ts_ms)
  say "lab up in $((t1 - t0)) ms (state: $STATE); verifying:"
  cmd_verify
  trap - EXIT
  local t2; t2=$(ts_ms)
  cat <<EOF
lab ready ($((t2 - t0)) ms incl. verify). Try:
  $0 status
  $0 exec client dig @$RESOLVER6 AAAA www.$ZONE
  $0 exec client curl -g http://[$(synth "${PREFIX[1]}" "$WWW4")]/
  $0 exec client curl -g http://[$(synth "${PREFIX[3]}" "$WWW4")]/
  $0 fail 2; $0 verify; $0 heal 2
  . $STATE/resolver/env; ip netns exec \$NETNS \$RNDC status
  $0 synth $SVC4          # RFC 6052 addresses of an IPv4 under all three prefixes
  $0 down
EOF
}

cmd_down() {
  need_root
  local n s pid
  # 1. our daemons, by recorded PID (checked against the expected binary)
  local reap=()
  if [[ -d $STATE/pids ]]; then
    local names=() f; for f in "$STATE"/pids/*; do [[ -e $f ]] && names+=("$(basename "$f")"); done
    for f in "${names[@]+"${names[@]}"}"; do alive "$f" && reap+=("$(pid_of "$f")"); done
    ((${#names[@]} == 0)) || stop_proc "${names[@]}"
  fi
  # 2. anything else still running inside *our* namespaces (e.g. `exec` leftovers)
  for s in "${NAMESPACES[@]}"; do
    ns_exists "$s" || continue
    for pid in $(ip netns pids "$(ns "$s")" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; reap+=("$pid"); done
  done
  # 3. TUN devices, then the namespaces (veths and the bridge go with them)
  for n in "${GWS[@]}"; do ns_exists "gw$n" && ip -n "$(ns "gw$n")" link del nat64 2>/dev/null || true; done
  for s in "${NAMESPACES[@]}"; do
    if ns_exists "$s"; then
      local i; for ((i = 0; i < 20; i++)); do [[ -z $(ip netns pids "$(ns "$s")" 2>/dev/null) ]] && break; sleep 0.05; done
      ip netns del "$(ns "$s")" 2>/dev/null || true
    fi
  done
  ((${#reap[@]} == 0)) || reap_wait "${reap[@]}"
  # 4. state dir (only if it is ours)
  if [[ -d $STATE ]]; then
    if [[ -e $STATE/.nhlab-state ]]; then rm -rf -- "$STATE"; else warn "not removing $STATE: no .nhlab-state marker"; fi
  fi
  say "lab down"
}

cmd_fail() {
  need_root
  local n=${1:-}; [[ $n =~ ^[123]$ ]] || die "usage: $0 fail 1|2|3"
  ns_exists "gw$n" || die "lab is not up"
  if ! alive "tayga$n"; then touch "$STATE/gw$n/failed"; say "gw$n: TAYGA already stopped"; return 0; fi
  stop_proc "tayga$n"
  touch "$STATE/gw$n/failed"
  say "gw$n: TAYGA stopped; ${PREFIX[$n]} now silently drops (TUN kept, routes kept)"
}

# Packet loss without tc netem (not available here): an nftables rule in the gateway's forward
# hook drops PCT % of the packets that arrive from the resolver side (its `core` link), chosen at
# random per packet. A new `loss` replaces the old share; `loss N 0` and `heal N` remove it.
cmd_loss() {
  need_root
  local n=${1:-} pct=${2:-}
  [[ $n =~ ^[123]$ && $pct =~ ^[0-9]+$ ]] && ((pct <= 100)) || die "usage: $0 loss 1|2|3 PERCENT (0-100)"
  ns_exists "gw$n" || die "lab is not up"
  command -v nft >/dev/null || die "nft not found (install nftables)"
  clear_loss "$n"
  if ((pct == 0)); then say "gw$n: no packet loss"; return 0; fi
  nsx "gw$n" nft -f - <<NFT
table inet lab {
  chain lossy {
    type filter hook forward priority 0; policy accept;
    iifname "core" numgen random mod 100 < $pct drop
  }
}
NFT
  echo "$pct" >"$STATE/gw$n/loss"
  say "gw$n: dropping $pct% of the packets from the resolver side towards ${PREFIX[$n]}"
}

clear_loss() {
  if command -v nft >/dev/null && nsx "gw$1" nft list table inet lab >/dev/null 2>&1; then
    nsx "gw$1" nft delete table inet lab
  fi
  rm -f "$STATE/gw$1/loss"
}

cmd_heal() {
  need_root
  local n=${1:-}; [[ $n =~ ^[123]$ ]] || die "usage: $0 heal 1|2|3"
  ns_exists "gw$n" || die "lab is not up"
  clear_loss "$n"
  if alive "tayga$n"; then say "gw$n: TAYGA already running (pid $(pid_of "tayga$n"))"; rm -f "$STATE/gw$n/failed"; return 0; fi
  start_tayga "$n"
  wait_until 3 "gw$n TAYGA" "tayga$n" alive "tayga$n" || die "gw$n: TAYGA failed to start, see $STATE/gw$n/tayga.log"
  say "gw$n: TAYGA restarted (pid $(pid_of "tayga$n")), ${PREFIX[$n]} translating again"
}

cmd_service() { # cmd_service stop|start http|echo
  need_root
  local op=$1 svc=${2:-}
  [[ $svc == http || $svc == echo ]] || die "usage: $0 $op-service http|echo"
  ns_exists v4 || die "lab is not up"
  if [[ $op == stop ]]; then
    if ! alive "$svc"; then say "$svc: already stopped"; return 0; fi
    stop_proc "$svc"
    say "$svc service stopped on $WWW4 and $SVC4 (connections are refused)"
  else
    if alive "$svc"; then say "$svc: already running (pid $(pid_of "$svc"))"; return 0; fi
    start_service "$svc"
    wait_until 5 "$svc server" "$svc" test -s "$STATE/v4/$svc.pid" || die "$svc: failed to start, see $STATE/v4/$svc.log"
    say "$svc service running again (pid $(pid_of "$svc"))"
  fi
}

cmd_status() {
  local s n line
  if ! any_lab_ns; then say "lab is down"; return 0; fi
  proc() { if alive "$1"; then printf '%s pid %s running' "$2" "$(pid_of "$1")"; else printf '%s NOT running' "$2"; fi; }
  for s in "${NAMESPACES[@]}"; do
    if ! ns_exists "$s"; then say "$(printf '%-16s' "$(ns "$s")") MISSING"; continue; fi
    case $s in
      v4) line="$(proc http http-server), $(proc echo echo-server), $(proc named-auth named-auth); $WWW4 $SVC4 $AUTH4" ;;
      gw?)
        n=${s#gw}; line="$(proc "tayga$n" tayga)"
        if [[ -e $STATE/gw$n/failed ]]; then line+=" (failed by 'fail $n')"; fi
        if [[ -e $STATE/gw$n/loss ]]; then line+=" ($(cat "$STATE/gw$n/loss")% loss by 'loss $n')"; fi
        line+=" prefix ${PREFIX[$n]} pool ${POOL[$n]}" ;;
      core) line="bridge br0 $CORE_NET" ;;
      resolver) line="$(proc named-resolver named-dns64) on [$RESOLVER6]:53, dns64 synthesizing: $({ dns64_prefixes 2>/dev/null || echo "INVALID (named-checkconf fails)"; } | paste -sd' ')" ;;
      client) line="$CLIENT6 (IPv6-only)" ;;
    esac
    say "$(printf '%-16s' "$(ns "$s")") $line"
  done
  # data plane: one HTTP GET per prefix from the client, in parallel, 1 s timeout
  local tmp; tmp=$(mktemp -d)
  for n in "${GWS[@]}"; do
    (tcp_http client "$(synth "${PREFIX[$n]}" "$WWW4")" 80 1 >"$tmp/$n" 2>/dev/null || echo "rc=$?" >>"$tmp/$n") &
  done
  wait
  for n in "${GWS[@]}"; do
    local r; r=$(tr -d '\r' <"$tmp/$n" | head -n 2 | paste -sd' ')
    local st=DOWN; [[ $r == "HTTP/1.1 200 OK"* ]] && st=UP
    [[ $r == *rc=124* ]] && r="timeout"
    say "$(printf 'gateway gw%s      %-4s' "$n" "$st") via ${PREFIX[$n]} ($r)"
  done
  rm -rf "$tmp"
  say "client AAAA www.$ZONE: $(client_aaaa "www.$ZONE" | tr '\n' ' ')"
}

cmd_exec() {
  [[ $# -ge 2 ]] || die "usage: $0 exec NS CMD..."
  local s=$1; shift
  ns_exists "$s" || die "no such lab namespace: $(ns "$s")"
  exec ip netns exec "$(ns "$s")" "$@"
}

usage() {
  cat <<EOF
usage: $0 up | down | restart | status | verify | fail N | heal N | loss N PCT | stop-service S | start-service S
          | exec NS CMD... | synth IPV4...
  S: http (HTTP :80 on both targets) or echo (TCP/UDP echo :7)
  NS: v4 gw1 gw2 gw3 core resolver client (or full nhlab-* name)
  state dir: \$LAB_STATE (default /run/nat64-health-lab), now $STATE
EOF
}

cmd=${1:-}; shift || true
case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  restart) cmd_down >/dev/null; cmd_up ;;
  status) cmd_status ;;
  verify) cmd_verify ;;
  fail) cmd_fail "$@" ;;
  heal) cmd_heal "$@" ;;
  loss) cmd_loss "$@" ;;
  stop-service) cmd_service stop "$@" ;;
  start-service) cmd_service start "$@" ;;
  exec) cmd_exec "$@" ;;
  synth) for v in "$@"; do for n in "${GWS[@]}"; do printf '%-20s %-22s %s\n' "$v" "${PREFIX[$n]}" "$(synth "${PREFIX[$n]}" "$v")"; done; done ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
