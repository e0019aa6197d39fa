#!/bin/bash
# The package test: build the .deb (and an older version of it, from this tree), run lintian, and
# boot a clean Debian trixie (debootstrap, cached) with its own systemd as PID 1 under
# systemd-nspawn. There the package is used the way an operator would, and the unit runs for real:
#
#   1. apt-get install ./nat64-health_*.deb: conffile, include file, the printed include line;
#      BIND accepts the include line (named-checkconf && rndc reconfig)
#   2. `systemctl enable --now` returns after READY=1; StatusText names the active set; dig @::1
#      answers with exactly the healthy prefixes; TCP and ICMP probes work inside the sandbox
#   3. the state survives `systemctl restart` during a total outage, a SIGKILL of the main process
#      (systemd restarts it) and a reboot of the container: the set served before stays, a drain
#      goes on (same start time)
#   4. `systemctl reload` re-reads the config; a broken config on reload keeps the daemon on the
#      old one and says why; a broken config at start exits 78 and is not restarted
#   5. the journal: every line carries its priority (`journalctl -p warning` shows warnings and
#      errors only)
#   6. `nat64-health maintenance PREFIX on|off` as root against the running unit takes the prefix
#      out (AAAA, include file, state file, `maintenance list`) and back, also across a restart; an
#      on_change hook runs as bind in the sandbox with its JSON on stdin and may write to the state
#      directory and /tmp, not /run
#   7. `systemctl stop` leaves BIND serving the last set; purge removes what the package created
#   8. upgrade from the older version with an edited config: the edit is kept, the running service
#      is restarted and keeps its state, BIND answers throughout
#   9. `systemd-analyze security` of the live unit: exposure at most 2.5
#
# Isolation: the container has a network namespace of its own with nothing but its loopback
# (--private-network), so no packet leaves it (named's root priming fails with "network
# unreachable"). The shipped configuration (public prefixes) is only validated and rendered
# statically, never probed: the daemon runs with a test configuration of documentation prefixes
# whose RFC 6052 addresses are put on the container's loopback (a TCP listener, ICMP echo answered
# by the kernel); one prefix leads nowhere.
#
# Needs root. Installs what it lacks with apt-get (dpkg-dev debhelper lintian debootstrap
# iproute2 zstd systemd-container). Environment:
#   NH_PKGTEST_CACHE   root tarball cache (default /var/cache/nat64-health-test); delete to rebuild
#   NH_PKGTEST_MIRROR  Debian mirror for debootstrap (default: the machine's apt sources' Debian archive)
#   NH_PKGTEST_DEB     test this .deb instead of building one (skips its build and lintian)
#   NH_KEEP=1          keep the work directory (root, logs) for a look afterwards
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=trixie
CACHE=${NH_PKGTEST_CACHE:-/var/cache/nat64-health-test}
# nodejs (and the CA certificates it recommends), named and its tools, dig, fping (a Recommends,
# and the ICMP probe), systemd and dbus (as on any trixie system); then with apt (debootstrap's
# resolver fails on its perl dependencies) lintian, trixie's, besides the host's.
ROOT_PACKAGES=nodejs,ca-certificates,bind9,bind9-utils,bind9-dnsutils,fping,systemd,dbus
ROOT_APT_PACKAGES=lintian
SECURITY_THRESHOLD=25 # systemd-analyze security's exposure x 10: at most 2.5

INCLUDE_FILE=/var/lib/bind/nat64-health/dns64.conf
INCLUDE_LINE="include \"$INCLUDE_FILE\";"
UNIT=/usr/lib/systemd/system/nat64-health.service
STATE_FILE=/var/lib/nat64-health/state.json
CONFIG=/etc/nat64-health/config.yaml
# Test prefixes (documentation space): a and c are "up" (their addresses of the target are on
# the container's loopback), b leads nowhere.
TARGET4=192.0.2.10
TARGET_PORT=8080
PREFIX_A=2001:db8:64:a::/96 ADDR_A=2001:db8:64:a::c000:20a
PREFIX_B=2001:db8:64:b::/96 ADDR_B=2001:db8:64:b::c000:20a
PREFIX_C=2001:db8:64:c::/96 ADDR_C=2001:db8:64:c::c000:20a

START=$(date +%s)
WORK=$(mktemp -d /var/tmp/nh-pkgtest.XXXXXX)
ROOT=$WORK/root
LOGS=$WORK/logs
MACHINE=nh-pkgtest-$$
NSPAWN= # the systemd-nspawn process
CT=     # the container's PID 1 (its systemd), as the host sees it
BOOTS=0
PIDS=()
PASSED=0

log() { printf '[%4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
fail() {
  echo "FAIL: $*" >&2
  # the log the message points to
  local f
  f=$(grep -oE '\(see [a-z0-9.-]+\)' <<<"$*" | sed 's/(see //; s/)//')
  [ -n "$f" ] && [ -f "$LOGS/$f" ] && { echo "----- $f (last 40 lines)"; tail -n 40 "$LOGS/$f"; }
  echo "package test: $PASSED passed, 1 failed ($(($(date +%s) - START)) s)"
  exit 1
}
ok() {
  PASSED=$((PASSED + 1))
  echo "  ok: $*"
}
step() { log "--- $*"; }

# in_ct CMD...: run CMD inside the booted container (its mount, UTS, IPC, network and PID
# namespaces), as root, in a clean environment
in_ct() {
  nsenter -t "$CT" -m -u -i -n -p -- /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
# ip_ct ARGS...: the host's ip in the container's network namespace (minbase has no iproute2)
ip_ct() { nsenter -t "$CT" -n ip "$@"; }
prop() { in_ct systemctl show -P "$2" "$1"; } # prop UNIT PROPERTY
journal() { in_ct journalctl --no-pager -q "$@"; }

stop_container() {
  [ -n "$NSPAWN" ] || return 0
  if kill -0 "$NSPAWN" 2>/dev/null; then
    kill "$NSPAWN" # systemd-nspawn asks the container's systemd to power off
    timeout 30 tail --pid="$NSPAWN" -f /dev/null || kill -9 "$NSPAWN"
  fi
  wait "$NSPAWN" 2>/dev/null || true
  NSPAWN= CT=
}

cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ -n "$CT" ]; then
    journal -u nat64-health >"$LOGS/journal-nat64-health.log" 2>&1
    journal -u named >"$LOGS/journal-named.log" 2>&1
    cp "/proc/$CT/root$STATE_FILE" "$LOGS/state.json" 2>/dev/null
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  stop_container
  if [ $rc -ne 0 ] && [ -d "$LOGS" ]; then
    for f in "$LOGS"/journal-*.log; do
      [ -f "$f" ] || continue
      echo "----- $(basename "$f") (last 40 lines)"
      tail -n 40 "$f"
    done
    echo "(all logs: $LOGS; NH_KEEP=1 keeps them)"
  fi
  if [ "${NH_KEEP:-}" = 1 ]; then
    echo "kept $WORK"
  else
    # only when nothing is mounted below it any more
    if ! grep -q " $WORK/" /proc/mounts; then rm -rf "$WORK"; else echo "not removing $WORK: still mounted" >&2; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION CMD...: poll until CMD succeeds
  local deadline=$(($(date +%s) + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}

# Boots the root: systemd-nspawn with the container's own systemd as PID 1 and no network but
# its loopback; returns when the system is up (systemctl is-system-running --wait).
boot() {
  BOOTS=$((BOOTS + 1))
  local t0 out=$LOGS/boot-$BOOTS.log
  t0=$(date +%s%N)
  systemd-nspawn -q -D "$ROOT" -M "$MACHINE" --register=no --keep-unit -b --private-network \
    --console=passive >"$out" 2>&1 &
  NSPAWN=$!
  # PID 1 of the container is systemd-nspawn's child, once it runs systemd
  local deadline=$(($(date +%s) + 30)) pid
  CT=
  while [ -z "$CT" ]; do
    kill -0 "$NSPAWN" 2>/dev/null || { cat "$out"; fail "systemd-nspawn exited"; }
    [ "$(date +%s)" -lt "$deadline" ] || fail "no systemd in the container after 30 s"
    for pid in $(cat "/proc/$NSPAWN/task/$NSPAWN/children" 2>/dev/null); do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ] && CT=$pid
    done
    [ -n "$CT" ] || sleep 0.1
  done
  # systemctl talks to it over its private socket, which it opens early in the boot
  until [ -S "/proc/$CT/root/run/systemd/private" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no /run/systemd/private in the container after 30 s"
    sleep 0.1
  done
  local state
  state=$(timeout 60 nsenter -t "$CT" -m -u -i -n -p -- systemctl is-system-running --wait 2>&1) || true
  if [ "$state" != running ]; then
    in_ct systemctl --failed --no-pager || true
    fail "the container's systemd is '$state' after booting (see above)"
  fi
  local tenths=$((($(date +%s%N) - t0) / 100000000))
  BOOT_SECONDS=$((tenths / 10)).$((tenths % 10))
}

# The container's network: only lo; the healthy prefixes' addresses of the target on it.
up() { for a in "$@"; do ip_ct addr add "$a/128" dev lo nodad; done; }
down() { for a in "$@"; do ip_ct addr del "$a/128" dev lo; done; }

aaaa() { in_ct dig @::1 +short +time=2 +tries=1 AAAA www.example.test | sort | paste -sd ' '; }
# the first line of a reverse lookup: the DNS64 CNAME into in-addr.arpa while a prefix has a
# dns64 block (active or draining), NXDOMAIN without one
ptr() { in_ct dig @::1 +noall +answer +comments +time=2 +tries=1 -x "$1" | grep -oE 'status: [A-Z]+|CNAME.*' | paste -sd ' '; }
state_js() { # state_js JS [ARGS...]: JS with the state file as s; ARGS in process.argv[2...]
  local js=$1
  shift
  node -e "const s = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); $js" "/proc/$CT/root$STATE_FILE" "$@"
}
main_pid() { prop nat64-health MainPID; }
status_text() { prop nat64-health StatusText; }
status_is() { [ "$(status_text)" = "$1" ]; }
active() { [ "$(prop nat64-health ActiveState)" = active ]; }
restarted_once() { [ "$(prop nat64-health NRestarts)" = 1 ] && active; }
draining() { state_js 'process.exit(s.draining_since?.[process.argv[2]] ? 0 : 1)' "$1"; }
drain_since() { state_js 'console.log(s.draining_since?.[process.argv[2]])' "$1"; }
in_journal() { journal "${@:2}" | grep -q -- "$1"; } # in_journal PATTERN JOURNALCTL-ARGS...

# What the root looks like, to compare before the installation and after the purge. Left out:
# what the booted system itself changes (logs, journal, systemd's and dpkg's/apt's records) and
# the test's own files.
snapshot() {
  (cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
    -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \
    -o -path ./var/lib/systemd/timers -o -path ./var/lib/systemd/random-seed -o -path ./var/lib/systemd/catalog \
    -o -path ./var/tmp/pkgtest -o \( -path './var/tmp/systemd-private-*' ! -path '*nat64-health*' \) \) -prune -o \
    -printf '%p %y %u:%g %m\n' | sort)
}

# ---------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "test/package/run.sh needs root (debootstrap, systemd-nspawn)" >&2; exit 1; }
mkdir -p "$LOGS"

need=()
for pair in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian debootstrap:debootstrap ip:iproute2 zstd:zstd \
  nsenter:util-linux systemd-nspawn:systemd-container; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$LOGS/apt-host.log"
fi

# The Debian archive of the machine's apt sources (not its security archive), from apt itself so
# that one-line and deb822 sources both count.
debian_mirror() {
  apt-cache policy 2>/dev/null |
    awk '$1 ~ /^[0-9]+$/ && $2 ~ /:\/\// { uri = $2 } /^ +release / && /o=Debian,/ && /l=Debian,/ { print uri; exit }'
}
MIRROR=${NH_PKGTEST_MIRROR:-$(debian_mirror)}
if [ -z "$MIRROR" ]; then
  apt-get update -qq
  MIRROR=$(debian_mirror)
fi
[ -n "$MIRROR" ] || fail "no Debian archive in the machine's apt sources: set NH_PKGTEST_MIRROR"

# --- build and lintian ------------------------------------------------------------------------
VERSION=$(cd "$REPO" && dpkg-parsechangelog -S Version)
if [ -n "${NH_PKGTEST_DEB:-}" ]; then
  DEB=$(realpath "$NH_PKGTEST_DEB")
else
  log "building the package (npm run deb)"
  (cd "$REPO" && bash scripts/build-deb.sh) >"$LOGS/build.log" 2>&1 || fail "the package build failed (see build.log)"
  DEB=$(ls "$REPO"/build/deb/nat64-health_*_all.deb)
  ok "built $(basename "$DEB")"
  log "lintian"
  if ! lintian --fail-on error,warning --display-info "$REPO"/build/deb/nat64-health_*.changes >"$LOGS/lintian.log" 2>&1; then
    cat "$LOGS/lintian.log"
    fail "lintian reports errors or warnings"
  fi
  sed 's/^/  lintian: /' "$LOGS/lintian.log" | grep -v 'running with root privileges' || true
  ok "lintian $(dpkg-query -W -f '${Version}' lintian) (host): no errors, no warnings"
fi
DEB_VERSION=$(dpkg-deb -f "$DEB" Version)

# The older version for the upgrade: this tree with a lower version (dpkg's ~ sorts before
# anything, semver's -pre before the release).
OLD_VERSION="$DEB_VERSION~pkgtest1"
log "building the older package $OLD_VERSION from this tree"
OLD_SRC=$WORK/src-old
mkdir -p "$OLD_SRC"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
  tar -C "$OLD_SRC" -xf -
ln -s "$REPO/node_modules" "$OLD_SRC/node_modules"
sed -i "1s/($VERSION)/($OLD_VERSION)/" "$OLD_SRC/debian/changelog"
node -e 'const f = process.argv[1], p = JSON.parse(require("fs").readFileSync(f, "utf8"));
  p.version = process.argv[2]; require("fs").writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' \
  "$OLD_SRC/package.json" "${OLD_VERSION/\~/-}"
(cd "$OLD_SRC" && bash scripts/build-deb.sh) >"$LOGS/build-old.log" 2>&1 || fail "the older package's build failed (see build-old.log)"
OLD_DEB=$(ls "$OLD_SRC"/build/deb/nat64-health_*_all.deb)
dpkg --compare-versions "$OLD_VERSION" lt "$DEB_VERSION" || fail "$OLD_VERSION is not older than $DEB_VERSION"
ok "built $(basename "$OLD_DEB") (older than $DEB_VERSION)"

# --- the trixie root ----------------------------------------------------------------------------
key=$(printf '%s %s %s %s' "$SUITE" "$ROOT_PACKAGES" "$ROOT_APT_PACKAGES" "$MIRROR" | sha256sum | cut -c1-12)
TARBALL=$CACHE/$SUITE-minbase-$key.tar.zst
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build of the cached root at a time
if [ ! -s "$TARBALL" ]; then
  log "debootstrap $SUITE from $MIRROR (not cached yet: $TARBALL)"
  t0=$(date +%s)
  boot=$WORK/bootstrap # under $WORK: cleaned up (and unmounted) with it
  debootstrap --variant=minbase --include="$ROOT_PACKAGES" "$SUITE" "$boot" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
    fail "debootstrap failed (see debootstrap.log)"
  cp /etc/resolv.conf "$boot/etc/resolv.conf"
  mount -t proc proc "$boot/proc"
  if ! { chroot "$boot" apt-get update -q && chroot "$boot" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $ROOT_APT_PACKAGES; } >>"$LOGS/debootstrap.log" 2>&1; then
    umount "$boot/proc"
    fail "apt-get install $ROOT_APT_PACKAGES in the new root failed (see debootstrap.log)"
  fi
  umount "$boot/proc"
  # as debootstrap leaves it: no package lists, no downloaded packages, no resolver config
  chroot "$boot" apt-get clean
  rm -rf "$boot"/var/lib/apt/lists/* "$boot/etc/resolv.conf"
  chmod 0755 "$boot"
  tar -C "$boot" --numeric-owner --zstd -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$boot"
  log "debootstrap and tarball took $(($(date +%s) - t0)) s ($(du -m "$TARBALL" | cut -f1) MB)"
fi
touch "$TARBALL"
# roots of other package lists or mirrors, unused for a week (another checkout may still use one)
find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar.zst" ! -path "$TARBALL" -mtime +7 -delete
exec 9>&-
log "unpacking a fresh root from $TARBALL"
mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner --zstd -xf "$TARBALL"
chmod 0755 "$ROOT" # mktemp -d made it 0700
ok "clean $SUITE root ($(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME"), nodejs $(chroot "$ROOT" dpkg-query -W -f '${Version}' nodejs), bind9 $(chroot "$ROOT" dpkg-query -W -f '${Version}' bind9), systemd $(chroot "$ROOT" dpkg-query -W -f '${Version}' systemd))"

if [ -z "${NH_PKGTEST_DEB:-}" ]; then
  # trixie's lintian too: the package targets trixie, whose lintian knows more (e.g. /usr-merge)
  mkdir -p "$ROOT/var/tmp/lintian"
  install -m 0644 "$REPO"/build/deb/nat64-health_* "$ROOT/var/tmp/lintian/"
  chmod 0777 "$ROOT/var/tmp/lintian"
  if ! chroot --userspec=nobody:nogroup "$ROOT" env HOME=/var/tmp/lintian lintian --fail-on error,warning --display-info \
    /var/tmp/lintian/"$(basename "$REPO"/build/deb/nat64-health_*.changes)" >"$LOGS/lintian-trixie.log" 2>&1; then
    cat "$LOGS/lintian-trixie.log"
    fail "trixie's lintian reports errors or warnings"
  fi
  sed 's/^/  lintian (trixie): /' "$LOGS/lintian-trixie.log"
  ok "lintian $(chroot "$ROOT" dpkg-query -W -f '${Version}' lintian) ($SUITE): no errors, no warnings"
  rm -rf "$ROOT/var/tmp/lintian"
fi

# --- the system before the package: BIND with a test zone, the IPv4 service behind the NAT64s ----
echo pkgtest >"$ROOT/etc/hostname"
cat >"$ROOT/etc/bind/db.example.test" <<'EOF'
$TTL 60
@   IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@   IN NS  localhost.
www IN A   192.0.2.10
EOF
# the PTR zone, so that a DNS64 reverse lookup (CNAME into in-addr.arpa) ends in NOERROR rather
# than NXDOMAIN from BIND's automatic empty zone for 192.0.2.0/24
cat >"$ROOT/etc/bind/db.192.0.2" <<'EOF'
$TTL 60
@   IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@   IN NS  localhost.
10  IN PTR www.example.test.
EOF
cat >>"$ROOT/etc/bind/named.conf.local" <<'EOF'
zone "example.test" { type primary; file "/etc/bind/db.example.test"; };
zone "2.0.192.in-addr.arpa" { type primary; file "/etc/bind/db.192.0.2"; };
EOF
# A TCP listener on the loopback (every address, port 8080), started at every boot, run with the
# root's node.
cat >"$ROOT/etc/systemd/system/pkgtest-listener.service" <<EOF
[Unit]
Description=package test: the IPv4 service behind the NAT64 prefixes
[Service]
User=nobody
ExecStart=/usr/bin/node -e "require('net').createServer((s) => s.on('error', () => {}).end('hello\\\\n')).listen($TARGET_PORT, '::')"
[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/pkgtest-listener.service "$ROOT/etc/systemd/system/multi-user.target.wants/"
mkdir -p "$ROOT/var/tmp/pkgtest"
cp "$DEB" "$OLD_DEB" "$ROOT/var/tmp/pkgtest/"
NEW_IN_CT=/var/tmp/pkgtest/$(basename "$DEB")
OLD_IN_CT=/var/tmp/pkgtest/$(basename "$OLD_DEB")

log "booting the root: systemd-nspawn -b --private-network"
boot
ok "booted $SUITE with systemd $(in_ct systemctl --version | head -1 | cut -d' ' -f2) as PID 1: 'running' in $BOOT_SECONDS s"
[ "$(ip_ct -o link show | grep -cv ': lo:')" = 0 ] || { ip_ct link show; fail "the container has interfaces besides lo"; }
[ "$(in_ct systemctl is-active named pkgtest-listener | paste -sd ' ')" = "active active" ] || fail "named or the listener is not active"
wait_for 30 "named (rndc status)" in_ct rndc status
ok "no network but lo; named.service ($(in_ct named -v)) and the TCP listener active"

snapshot >"$WORK/before.txt"

# --- 1. install --------------------------------------------------------------------------------------
step "1. apt-get install ./$(basename "$DEB")"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$NEW_IN_CT" >"$LOGS/install.log" 2>&1 ||
  fail "apt-get install failed (see install.log)"
grep -qF "$INCLUDE_LINE" "$LOGS/install.log" || fail "postinst did not print the include line"
ok "installed with apt; postinst printed: $INCLUDE_LINE"
[ "$(in_ct stat -c '%U:%G %a' "$INCLUDE_FILE")" = "bind:bind 644" ] || fail "$INCLUDE_FILE: $(in_ct stat -c '%U:%G %a' "$INCLUDE_FILE")"
[ "$(in_ct stat -c '%U:%G' "$(dirname $INCLUDE_FILE)")" = "bind:bind" ] || fail "$(dirname $INCLUDE_FILE) is not owned by bind"
grep -qx "$CONFIG" "$ROOT/var/lib/dpkg/info/nat64-health.conffiles" || fail "config.yaml is not a conffile"
for f in /usr/bin/nat64-health /usr/share/man/man8/nat64-health.8.gz /usr/share/bash-completion/completions/nat64-health \
  /usr/share/zsh/vendor-completions/_nat64-health /usr/share/nat64-health/templates/dns64.conf.hbs "$UNIT"; do
  [ -e "$ROOT$f" ] || fail "$f is missing"
done
ok "files: include file (bind:bind 0644), conffile, CLI, man page, completions, templates, unit"
MONITORING=/usr/share/nat64-health/monitoring
for f in nat64-health.rules.yml nat64-health.dashboard.json; do
  cmp -s "$REPO/monitoring/$f" "$ROOT$MONITORING/$f" || fail "$MONITORING/$f is missing or not the repository's monitoring/$f"
done
promtool check rules "$ROOT$MONITORING/nat64-health.rules.yml" >"$LOGS/promtool.log" 2>&1 ||
  { cat "$LOGS/promtool.log"; fail "promtool check rules $MONITORING/nat64-health.rules.yml"; }
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$ROOT$MONITORING/nat64-health.dashboard.json" ||
  fail "$MONITORING/nat64-health.dashboard.json is not JSON"
ok "monitoring: the alert rules (promtool check rules: $(grep -o '[0-9]* rules found' "$LOGS/promtool.log")) and the Grafana dashboard in $MONITORING"
completions=$(in_ct bash -c '. /usr/share/bash-completion/completions/nat64-health
  COMP_WORDS=(nat64-health va); COMP_CWORD=1; _nat64-health_yargs_completions; echo "${COMPREPLY[*]}"')
[ "$completions" = validate ] || fail "bash completion of 'nat64-health va': '$completions'"
[ "$(in_ct nat64-health --version)" = "${DEB_VERSION/\~/-}" ] || fail "nat64-health --version: $(in_ct nat64-health --version)"
ok "nat64-health $(in_ct nat64-health --version) runs on the root's node $(in_ct node --version); bash completion works"
[ "$(in_ct systemctl is-enabled nat64-health)" = disabled ] && [ "$(prop nat64-health ActiveState)" = inactive ] ||
  fail "the package should neither enable nor start the service"
ok "the service is installed but neither enabled nor started"
# Documentation= is checked above (the root has no man-db)
in_ct systemd-analyze verify --man=no "$UNIT" >"$LOGS/verify.log" 2>&1 || { cat "$LOGS/verify.log"; fail "systemd-analyze verify"; }
ok "systemd-analyze verify $UNIT"

cp "$ROOT/etc/bind/named.conf.options" "$WORK/named.conf.options.orig"
sed -i "s|^options {|&\n\t$INCLUDE_LINE|" "$ROOT/etc/bind/named.conf.options"
in_ct sh -c 'named-checkconf && rndc reconfig' || fail "named-checkconf && rndc reconfig with the include line"
ok "BIND accepts the include line with the package's initial (empty) file: named-checkconf && rndc reconfig"
in_ct nat64-health validate --bind >"$LOGS/validate-shipped.log" 2>&1 || { cat "$LOGS/validate-shipped.log"; fail "validate --bind of the shipped config"; }
in_ct nat64-health render --static >"$LOGS/render-shipped.txt" || fail "render --static of the shipped config"
[ "$(grep -c '^dns64 ' "$LOGS/render-shipped.txt")" = 4 ] || fail "the shipped config should render 4 public prefixes"
ok "shipped config: validate --bind passes (named-checkconf accepts its 4 public prefixes), not probed"

# --- 2. the service under systemd ------------------------------------------------------------------
step "2. systemctl enable --now nat64-health"
# The operator edits the one YAML file (here: a test setup that stays on the loopback).
write_config() { # write_config NAME-OF-A [EXTRA-HEALTH-KEYS [EXTRA-TOP-LEVEL-KEYS]]
  cat >"$ROOT$CONFIG" <<EOF
# package test: documentation prefixes; a and c reach the target on the loopback, b does not
prefixes:
  - { prefix: "$PREFIX_A", name: $1 }
  - { prefix: "$PREFIX_B", name: gw-b }
  - { prefix: "$PREFIX_C", name: gw-c }
probes:
  - { type: tcp, address: $TARGET4, port: $TARGET_PORT }
  - { type: icmp, address: $TARGET4 }
health:
  interval: 2s
  timeout: 1s
  fast_interval: 1s
  quorum: 2
${2:-}
select:
  min_active: 1
  max_active: 2
bind:
  mode: include
  output: $INCLUDE_FILE
${3:-}
EOF
}
write_config gw-a
up "$ADDR_A" "$ADDR_C"
in_ct nat64-health validate --bind >/dev/null || fail "validate --bind of the test config"
# No unprivileged ICMP in the container (ping_group_range "1 0"): fping needs CAP_NET_RAW.
[ "$(in_ct cat /proc/sys/net/ipv4/ping_group_range | tr -s '\t ' ' ')" = "1 0" ] || fail "unprivileged ICMP is allowed in the container"

in_ct systemctl enable --now nat64-health >"$LOGS/enable.log" 2>&1 || { cat "$LOGS/enable.log"; fail "systemctl enable --now"; }
# Type=notify: the start job ends with READY=1, which comes after the first round and apply.
[ "$(prop nat64-health ActiveState)/$(prop nat64-health SubState)" = active/running ] || fail "not active/running after the start returned"
[ "$(in_ct stat -c '%U:%G %a' "$STATE_FILE" 2>&1)" = "bind:bind 644" ] || fail "state file $STATE_FILE: $(in_ct stat -c '%U:%G %a' "$STATE_FILE" 2>&1)"
state_js 'process.exit(s.round >= 1 && s.targets[0].last_apply?.result === "applied" ? 0 : 1)' ||
  fail "systemctl start returned before the first round and apply"
[ "$(status_text)" = "active: gw-a, gw-c" ] || fail "StatusText: '$(status_text)'"
ok "systemctl enable --now returned after READY=1 (first round and apply done); StatusText=$(status_text)"
[ "$(aaaa)" = "$ADDR_A $ADDR_C" ] || fail "dig @::1 AAAA www.example.test: '$(aaaa)', expected $ADDR_A $ADDR_C"
ok "dig @::1 AAAA www.example.test: exactly $(aaaa)"
PID=$(main_pid)
[ "$(in_ct stat -c %U "/proc/$PID")" = bind ] || fail "the daemon does not run as bind"
[ "$(in_ct grep ^CapEff "/proc/$PID/status" | cut -f2)" = 0000000000002000 ] || fail "the daemon should hold CAP_NET_RAW only"
# Both targets answered through a and c (quorum 2: TCP and ICMP), none is blamed; b fails both.
state_js '
  const by = Object.fromEntries(s.prefixes.map((p) => [p.prefix, p.last_round]));
  const [a, b, c] = process.argv.slice(2);
  const good = (v) => v && v.good && v.answered === 2 && v.counted === 2;
  process.exit(good(by[a]) && good(by[c]) && !by[b].good && s.target_faults.length === 0 ? 0 : 1);
' "$PREFIX_A" "$PREFIX_B" "$PREFIX_C" || { cat "/proc/$CT/root$STATE_FILE"; fail "the daemon's TCP and ICMP probes through $PREFIX_A and $PREFIX_C"; }
ok "inside the sandbox (user bind, CAP_NET_RAW only): TCP and ICMP (fping) answered through $PREFIX_A and $PREFIX_C, not $PREFIX_B"
# The operator's commands beside the service: status reads the service's state file; check probes once.
in_ct nat64-health status >"$LOGS/status.txt" 2>&1 || { cat "$LOGS/status.txt"; fail "nat64-health status"; }
in_ct nat64-health status --json | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.exit(s.pid === Number(process.argv[1]) && s.active.join(" ") === process.argv.slice(2).join(" ") ? 0 : 1);
' "$PID" "$PREFIX_A" "$PREFIX_C" || fail "nat64-health status --json: expected the service's pid and $PREFIX_A $PREFIX_C active"
rc=0
in_ct nat64-health check >"$LOGS/check.txt" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q '2 of 3 prefixes healthy' "$LOGS/check.txt" || { cat "$LOGS/check.txt"; fail "check: exit $rc"; }
ok "nat64-health status shows the service's state; check: exit 1, 2 of 3 prefixes healthy"
# One writer: a second daemon beside the service (an operator trying it by hand) is refused at
# once, naming the lock and the service's PID, and changes nothing.
rc=0
in_ct timeout 20 nat64-health run >"$LOGS/second-run.log" 2>&1 || rc=$?
[ $rc = 75 ] && grep -q "another nat64-health run (PID $PID) holds $STATE_FILE.lock" "$LOGS/second-run.log" ||
  { cat "$LOGS/second-run.log"; fail "a second nat64-health run beside the service: exit $rc"; }
[ "$(main_pid)" = "$PID" ] || fail "the service changed beside the refused second run"
ok "a second nat64-health run beside the service: exit 75, '$(head -c 160 "$LOGS/second-run.log")'"

# --- 9. (on the live unit) ---------------------------------------------------------------------------
in_ct systemd-analyze security --threshold=$SECURITY_THRESHOLD nat64-health >"$LOGS/security.log" 2>&1 ||
  { cat "$LOGS/security.log"; fail "systemd-analyze security: exposure above $((SECURITY_THRESHOLD / 10)).$((SECURITY_THRESHOLD % 10))"; }
EXPOSURE=$(grep -o 'Overall exposure level.*' "$LOGS/security.log")
ok "9. systemd-analyze security nat64-health (live unit): $EXPOSURE"

# --- 3. the state survives restarts, crashes and reboots ----------------------------------------------
step "3. state survives: restart, SIGKILL, reboot during an outage"
# A drain first: c's NAT64 dies, c leaves the set and drains (reverse lookups still answered).
down "$ADDR_C"
wait_for 30 "$PREFIX_C draining" draining "$PREFIX_C"
DRAIN_SINCE=$(drain_since "$PREFIX_C")
wait_for 10 "StatusText active: gw-a" status_is "active: gw-a"
[ "$(aaaa)" = "$ADDR_A" ] || fail "AAAA with $PREFIX_C draining: '$(aaaa)'"
PTR_DRAINING="status: NOERROR CNAME 10.2.0.192.in-addr.arpa."
[ "$(ptr "$ADDR_C")" = "$PTR_DRAINING" ] || fail "dig -x $ADDR_C while draining: '$(ptr "$ADDR_C")'"
[ "$(ptr "$ADDR_B")" = "status: NXDOMAIN" ] || fail "dig -x $ADDR_B (never active): '$(ptr "$ADDR_B")'"
ok "$PREFIX_C went down and drains since $DRAIN_SINCE: AAAA $ADDR_A only, dig -x $ADDR_C still answered ($PREFIX_B: NXDOMAIN)"
# Then a total outage: a dies too. The fail-safe keeps the set.
down "$ADDR_A"
wait_for 30 "the fail-safe" status_is "FAIL-SAFE active: gw-a"
ok "total outage: StatusText=$(status_text)"

# served_as_before WHAT: BIND serves a (c draining, same start), as before the outage
served_as_before() {
  [ "$(prop nat64-health ActiveState)" = active ] || fail "$1: the service is $(prop nat64-health ActiveState)"
  [ "$(status_text)" = "FAIL-SAFE active: gw-a" ] || fail "$1: StatusText '$(status_text)', expected the set served before"
  [ "$(aaaa)" = "$ADDR_A" ] || fail "$1: AAAA '$(aaaa)', expected $ADDR_A only (the set before, not the static one)"
  [ "$(ptr "$ADDR_C")" = "$PTR_DRAINING" ] || fail "$1: the drain of $PREFIX_C ended: dig -x gives '$(ptr "$ADDR_C")'"
  local since
  since=$(drain_since "$PREFIX_C")
  [ "$since" = "$DRAIN_SINCE" ] || fail "$1: $PREFIX_C drains since $since, not $DRAIN_SINCE"
  in_journal 'restored the previous active set' -u nat64-health _SYSTEMD_INVOCATION_ID="$(prop nat64-health InvocationID)" ||
    fail "$1: the daemon did not restore its state"
  ok "$1: StatusText=$(status_text), AAAA $(aaaa), $PREFIX_C still draining since $DRAIN_SINCE"
}

OLD_PID=$(main_pid)
in_ct systemctl restart nat64-health || fail "systemctl restart"
[ "$(main_pid)" != "$OLD_PID" ] || fail "systemctl restart did not restart"
served_as_before "systemctl restart during the outage"

OLD_PID=$(main_pid)
in_ct systemctl kill --kill-whom=main --signal=SIGKILL nat64-health
wait_for 30 "systemd to restart the killed daemon" restarted_once
[ "$(main_pid)" != "$OLD_PID" ] || fail "the main process was not replaced"
served_as_before "SIGKILL of the main process (systemd restarted it after RestartSec=$(prop nat64-health RestartUSec))"

log "rebooting the container"
in_ct systemctl reboot
rc=0
timeout 60 tail --pid="$NSPAWN" -f /dev/null || fail "the container did not go down within 60 s"
wait "$NSPAWN" || rc=$?
NSPAWN= CT=
[ $rc = 133 ] || fail "systemd-nspawn exited with $rc, expected 133 (the container rebooted)"
boot
# /run is empty after a reboot; the loopback has no test addresses: the outage goes on.
[ "$(ip_ct -o addr show dev lo | grep -c 2001:db8)" = 0 ] || fail "test addresses survived the reboot"
[ "$(in_ct systemctl is-enabled nat64-health)" = enabled ] || fail "nat64-health is not enabled"
wait_for 30 "nat64-health started at boot" active
served_as_before "reboot of the container (booted again in $BOOT_SECONDS s)"

# The NAT64s come back: a and c are served again.
up "$ADDR_A" "$ADDR_C"
wait_for 30 "recovery (active: gw-a, gw-c)" status_is "active: gw-a, gw-c"
[ "$(aaaa)" = "$ADDR_A $ADDR_C" ] || fail "after the recovery: AAAA '$(aaaa)'"
ok "recovery: StatusText=$(status_text), AAAA $(aaaa)"

# --- 4. reload, broken configs -----------------------------------------------------------------------
step "4. systemctl reload; a broken config on reload and at start"
PID=$(main_pid)
write_config gw-a1
in_ct systemctl reload nat64-health || fail "systemctl reload"
wait_for 30 "StatusText with the new name" status_is "active: gw-a1, gw-c"
in_journal 'SIGHUP: re-reading the configuration' -u nat64-health _PID="$PID" || fail "no SIGHUP in the journal"
in_journal 'configuration reloaded' -u nat64-health _PID="$PID" || fail "no 'configuration reloaded' in the journal"
[ "$(main_pid)" = "$PID" ] || fail "the reload restarted the daemon"
grep -q 'gw-a1' "$ROOT$INCLUDE_FILE" || fail "the include file does not show the renamed prefix"
ok "systemctl reload re-read the config (same process): StatusText=$(status_text)"

BROKEN_KEY="  rise: zero"
write_config gw-a1 "$BROKEN_KEY"
broken_line=$(grep -n "^$BROKEN_KEY\$" "$ROOT$CONFIG" | cut -d: -f1)
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
in_ct systemctl reload nat64-health || fail "systemctl reload with a broken config"
wait_for 30 "the rejection in the journal" \
  in_journal 'new configuration rejected; still running on the previous one' -u nat64-health -p err --since "$since"
rejection=$(journal -u nat64-health -p err --since "$since" | grep 'new configuration rejected' | tail -1)
grep -qF "$CONFIG:$broken_line" <<<"$rejection" && grep -qF 'health.rise' <<<"$rejection" ||
  fail "the rejection does not name $CONFIG:$broken_line and health.rise: $rejection"
# (RELOADING=1 made it "reloading" until the next round's READY=1)
wait_for 30 "the service active again after the rejected reload" active
[ "$(main_pid)" = "$PID" ] || fail "the daemon did not keep running"
[ "$(status_text)" = "active: gw-a1, gw-c" ] && [ "$(aaaa)" = "$ADDR_A $ADDR_C" ] || fail "the broken config changed the set"
ok "a broken config on reload: still running on the old one (AAAA $(aaaa)); the journal says: ${rejection#*]: }"

in_ct systemctl stop nat64-health
rc=0
in_ct systemctl start nat64-health 2>"$LOGS/start-broken.log" || rc=$?
[ $rc != 0 ] || fail "systemctl start with a broken config succeeded"
result="$(prop nat64-health ExecMainStatus) $(prop nat64-health ActiveState)/$(prop nat64-health SubState) restarts=$(prop nat64-health NRestarts)"
# without RestartPreventExitStatus=78 it would be "78 activating/auto-restart": restarted every 5 s
[ "$result" = "78 failed/failed restarts=0" ] || fail "a broken config at start: '$result', expected '78 failed/failed restarts=0'"
journal -u nat64-health -p err _SYSTEMD_INVOCATION_ID="$(prop nat64-health InvocationID)" >"$LOGS/start-broken-journal.log"
grep -qF "$CONFIG:$broken_line" "$LOGS/start-broken-journal.log" && grep -q 'health.rise' "$LOGS/start-broken-journal.log" ||
  { cat "$LOGS/start-broken-journal.log"; fail "the journal (priority err) does not say what is wrong with the config"; }
ok "a broken config at start: exit status 78, unit failed and not restarted (RestartPreventExitStatus=$(prop nat64-health RestartPreventExitStatus)); journal -p err: $(tail -1 "$LOGS/start-broken-journal.log" | sed 's/^.*\]: //')"
write_config gw-a1
in_ct systemctl reset-failed nat64-health
in_ct systemctl start nat64-health || fail "start with the repaired config"
[ "$(status_text)" = "active: gw-a1, gw-c" ] || fail "after the repair: StatusText '$(status_text)'"
ok "the repaired config starts again: StatusText=$(status_text)"

# --- 5. the journal's priorities --------------------------------------------------------------------
step "5. journal priorities"
journal -u nat64-health -o json >"$WORK/journal.json"
journal -u nat64-health -p warning -o json >"$WORK/journal-warning.json"
node - "$WORK/journal.json" "$WORK/journal-warning.json" <<'EOF' || fail "journal priorities (see above)"
const fs = require('fs');
const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const ours = (entries) => entries.filter((e) => e.SYSLOG_IDENTIFIER === 'nat64-health');
const all = ours(read(process.argv[2]));
const warning = ours(read(process.argv[3]));
const LEVEL = { DEBUG: '7', INFO: '6', WARN: '4', ERROR: '3' };
const problems = [];
for (const e of all) {
  const msg = String(e.MESSAGE);
  const level = /^(DEBUG|INFO|WARN|ERROR) /.exec(msg)?.[1];
  // the CLI's own messages (the config error at start) are errors, one problem per line
  const want = level ? LEVEL[level] : '3';
  if (e.PRIORITY !== want) problems.push(`priority ${e.PRIORITY}, expected ${want}: ${msg}`);
  if (msg.startsWith('<')) problems.push(`prefix not parsed: ${msg}`);
}
for (const e of warning) if (Number(e.PRIORITY) > 4) problems.push(`-p warning shows priority ${e.PRIORITY}: ${e.MESSAGE}`);
const count = (re) => warning.filter((e) => re.test(e.MESSAGE)).length;
if (!count(/^WARN  prefix .* is down/)) problems.push('-p warning lacks the prefix-down warnings');
if (!count(/^ERROR FAIL-SAFE/)) problems.push('-p warning lacks the fail-safe error');
if (!count(/^ERROR new configuration rejected/)) problems.push('-p warning lacks the rejected reload');
if (!count(/^configuration error:/)) problems.push('-p warning lacks the config error at start');
if (count(/^INFO /)) problems.push('-p warning shows info lines');
// and nothing else went wrong
const expected = [/^WARN  prefix .* is down/, /^ERROR FAIL-SAFE/, /^ERROR new configuration rejected/,
  /^configuration error:/, /^\/etc\/nat64-health\/config.yaml:\d+/];
for (const e of warning) if (!expected.some((re) => re.test(e.MESSAGE))) problems.push(`unexpected: ${e.MESSAGE}`);
if (!all.some((e) => /^INFO  applied to local/.test(e.MESSAGE))) problems.push('no info lines at all');
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log(`${all.length} lines of nat64-health, ${warning.length} of them warnings or errors`);
EOF
ok "journalctl -u nat64-health -p warning: warnings and errors only ($(wc -l <"$WORK/journal-warning.json") of $(wc -l <"$WORK/journal.json") entries); every line's PRIORITY matches its level"

# --- 6. maintenance and notify hooks under the unit ---------------------------------------------------
step "6. nat64-health maintenance against the running unit; an on_change hook in the sandbox"
# The hook records its stdin and environment where docs/configuration.md says a hook may write (the state
# directory, the private /tmp) and whether /run, read-only under ProtectSystem=strict, is writable.
HOOK_OUT=/var/lib/nat64-health/pkgtest-hook
cat >"$ROOT/usr/local/bin/nh-pkgtest-hook" <<EOF
#!/bin/sh
cat >>$HOOK_OUT.jsonl
echo "\$NAT64_HEALTH_EVENT \$NAT64_HEALTH_TARGET \$(id -un) new=\$NAT64_HEALTH_ACTIVE" >>$HOOK_OUT.env
if touch /run/nh-pkgtest-hook 2>/dev/null; then echo "/run writable" >>$HOOK_OUT.env; else echo "/run read-only" >>$HOOK_OUT.env; fi
if touch /tmp/nh-pkgtest-hook; then echo "/tmp writable" >>$HOOK_OUT.env; fi
EOF
chmod 0755 "$ROOT/usr/local/bin/nh-pkgtest-hook"
PID=$(main_pid)
since=$(in_ct date '+%Y-%m-%d %H:%M:%S')
# http.listen too: the status page and metrics come from a chunk of the bundle of their own, loaded
# only when configured (after the restart below, since a reload does not start the server).
write_config gw-a1 "" "hooks: { on_change: [/usr/local/bin/nh-pkgtest-hook], timeout: 5s }
http: { listen: \"[::1]:9464\" }"
in_ct systemctl reload nat64-health || fail "systemctl reload (hooks)"
wait_for 30 "the config with the hook reloaded" in_journal 'configuration reloaded' -u nat64-health _PID="$PID" --since "$since"
ok "on_change hook configured in $CONFIG, reloaded (same process)"

# maintenance_js JS [ARGS...]: JS with `nat64-health maintenance list --json` as m; ARGS in process.argv[1...]
maintenance_js() {
  local js=$1
  shift
  in_ct nat64-health maintenance list --json | node -e "const m = JSON.parse(require('fs').readFileSync(0, 'utf8')); $js" "$@"
}
in_ct nat64-health maintenance "$PREFIX_C" on --reason pkgtest >"$LOGS/maintenance-on.txt" 2>&1 ||
  { cat "$LOGS/maintenance-on.txt"; fail "nat64-health maintenance $PREFIX_C on (as root, against the unit)"; }
grep -qF "the set would become: $PREFIX_A" "$LOGS/maintenance-on.txt" || { cat "$LOGS/maintenance-on.txt"; fail "maintenance on: no prediction"; }
wait_for 30 "$PREFIX_C out of the set (StatusText active: gw-a1)" status_is "active: gw-a1"
[ "$(aaaa)" = "$ADDR_A" ] || fail "AAAA with $PREFIX_C in maintenance: '$(aaaa)'"
grep -A3 "dns64 $PREFIX_C" "$ROOT$INCLUDE_FILE" | grep -q 'clients { none; }' || fail "$PREFIX_C does not drain in $INCLUDE_FILE"
maintenance_js 'const e = m.prefixes.find((p) => p.prefix === process.argv[1]);
  process.exit(m.prefixes.length === 1 && e?.state === "in force" && e.reason === "pkgtest" ? 0 : 1)' "$PREFIX_C" ||
  { in_ct nat64-health maintenance list; fail "maintenance list does not show $PREFIX_C in force"; }
state_js 'process.exit(s.maintenance?.[process.argv[2]]?.reason === "pkgtest" &&
  s.prefixes.find((p) => p.prefix === process.argv[2]).draining ? 0 : 1)' "$PREFIX_C" ||
  fail "the state file does not show $PREFIX_C in maintenance and draining"
# the lock (an flock) is let go: nobody holds it, and no PID is left in it
in_ct flock --nonblock /var/lib/nat64-health/maintenance.json.lock true &&
  [ ! -s "$ROOT/var/lib/nat64-health/maintenance.json.lock" ] || fail "maintenance.json.lock is still held"
ok "maintenance $PREFIX_C on (root, while the unit runs as bind): StatusText=$(status_text), AAAA $(aaaa), $PREFIX_C drains; list and the state file show it"

# The hook ran under the unit: its stdin document, its variables, where it could write.
wait_for 15 "the on_change hook's record" test -s "$ROOT$HOOK_OUT.env"
node -e '
  const [doc] = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const [a, c] = process.argv.slice(2);
  const ok = doc.event === "change" && doc.target === "local" && doc.old.join(" ") === `${a} ${c}` &&
    doc.new.join(" ") === a && doc.draining.includes(c) && /in maintenance: pkgtest/.test(JSON.stringify(doc.changes));
  if (!ok) { console.error(JSON.stringify(doc)); process.exit(1); }
' "$ROOT$HOOK_OUT.jsonl" "$PREFIX_A" "$PREFIX_C" || fail "the hook's stdin document (above) is not the change"
expected_env="on_change local bind new=$PREFIX_A
/run read-only
/tmp writable"
[ "$(cat "$ROOT$HOOK_OUT.env")" = "$expected_env" ] || { cat "$ROOT$HOOK_OUT.env"; fail "the hook's environment or sandbox (above)"; }
[ ! -e "$ROOT/run/nh-pkgtest-hook" ] || fail "the hook wrote to /run"
ok "the on_change hook ran as bind in the sandbox: JSON on stdin (old $PREFIX_A $PREFIX_C, new $PREFIX_A), NAT64_HEALTH_*; the state directory and /tmp writable, /run read-only"

OLD_PID=$(main_pid)
in_ct systemctl restart nat64-health || fail "systemctl restart (maintenance)"
[ "$(main_pid)" != "$OLD_PID" ] || fail "systemctl restart did not restart"
[ "$(status_text)" = "active: gw-a1" ] && [ "$(aaaa)" = "$ADDR_A" ] ||
  fail "after the restart: StatusText '$(status_text)', AAAA '$(aaaa)': $PREFIX_C should stay in maintenance"
ok "systemctl restart: $PREFIX_C stays in maintenance (StatusText=$(status_text), AAAA $(aaaa))"
metrics() { in_ct node -e 'fetch("http://[::1]:9464/metrics").then(async (r) => process.stdout.write(await r.text()))'; }
wait_for 30 "the metrics on [::1]:9464" metrics
metrics >"$LOGS/metrics.txt" || fail "GET /metrics failed"
grep -qx "nat64_health_prefix_active{prefix=\"$PREFIX_A\"} 1" "$LOGS/metrics.txt" ||
  fail "GET /metrics: no nat64_health_prefix_active 1 for $PREFIX_A (see $LOGS/metrics.txt)"
ok "http.listen: GET http://[::1]:9464/metrics from the unit (the bundle's status page chunk) shows $PREFIX_A active"

in_ct nat64-health maintenance "$PREFIX_C" off >"$LOGS/maintenance-off.txt" 2>&1 ||
  { cat "$LOGS/maintenance-off.txt"; fail "nat64-health maintenance $PREFIX_C off"; }
wait_for 30 "$PREFIX_C back (StatusText active: gw-a1, gw-c)" status_is "active: gw-a1, gw-c"
[ "$(aaaa)" = "$ADDR_A $ADDR_C" ] || fail "after maintenance off: AAAA '$(aaaa)'"
maintenance_js 'process.exit(m.prefixes.length === 0 ? 0 : 1)' || fail "maintenance list is not empty after off"
hook_saw_way_back() {
  node -e '
    const docs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    process.exit(docs.at(-1).new.join(" ") === process.argv.slice(2).join(" ") ? 0 : 1);
  ' "$ROOT$HOOK_OUT.jsonl" "$PREFIX_A" "$PREFIX_C"
}
wait_for 15 "the hook's document of the way back (new: $PREFIX_A $PREFIX_C)" hook_saw_way_back
in_journal "prefix $PREFIX_C taken out of maintenance" -u nat64-health _PID="$(main_pid)" || fail "no 'taken out of maintenance' in the journal"
hook_warnings=$(journal -u nat64-health -p warning --since "$since" | grep hook || true)
[ -z "$hook_warnings" ] || fail "hook warnings in the journal: $hook_warnings"
ok "maintenance $PREFIX_C off: StatusText=$(status_text), AAAA $(aaaa); the hook saw the way back; no hook warning in the journal"
write_config gw-a1
in_ct systemctl reload nat64-health || fail "systemctl reload (without the hook)"
# the hook's files are the operator's, not the package's: the purge below would leave them
rm -f "$ROOT/usr/local/bin/nh-pkgtest-hook" "$ROOT$HOOK_OUT".*
[ -e "$ROOT/var/lib/nat64-health/maintenance.json" ] || fail "no maintenance.json left for the purge to remove"
# the apply history under the unit: written into the StateDirectory, read by `history` as root
[ -s "$ROOT/var/lib/nat64-health/history/local.json" ] || fail "no apply history (history/local.json) under the unit"
history_text=$(in_ct nat64-health history -n 0) || fail "nat64-health history failed"
printf '%s\n' "$history_text" | grep -q ' applied ' || fail "nat64-health history shows no applied entry: $history_text"
history_count=$(in_ct nat64-health history -n 0 --json | in_ct node -e '
  const h = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.stdout.write(String(h.entries.filter((e) => e.target === "local" && e.outcome === "applied").length));
') || fail "nat64-health history --json failed"
[ "$history_count" -ge 2 ] || fail "the history holds $history_count applies of local (the maintenance steps made more)"
ok "apply history under the unit: history/local.json, $history_count applies of local, read by nat64-health history"

# --- 7. stop, purge -----------------------------------------------------------------------------------
step "7. systemctl stop; apt-get purge"
served=$(aaaa)
cp "$ROOT$INCLUDE_FILE" "$WORK/include.before-stop"
in_ct systemctl stop nat64-health
[ "$(prop nat64-health ActiveState)" = inactive ] || fail "not inactive after stop"
[ "$(aaaa)" = "$served" ] && cmp -s "$ROOT$INCLUDE_FILE" "$WORK/include.before-stop" || fail "BIND's set changed at stop: '$(aaaa)'"
[ -s "/proc/$CT/root$STATE_FILE" ] || fail "the state file is gone after stop"
ok "systemctl stop: BIND keeps serving $served; the state file stays"

# The order docs/debian.md gives: first take the include line out of BIND's configuration, then purge.
cp "$WORK/named.conf.options.orig" "$ROOT/etc/bind/named.conf.options"
in_ct rndc reconfig || fail "rndc reconfig without the include line"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y nat64-health >"$LOGS/purge.log" 2>&1 || fail "apt-get purge failed (see purge.log)"
status=$(in_ct dpkg-query -W -f '${db:Status-Status}' nat64-health 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "dpkg still knows nat64-health ($status)"
for p in /etc/nat64-health /var/lib/bind/nat64-health /var/lib/nat64-health /usr/share/nat64-health /usr/bin/nat64-health "$UNIT"; do
  [ ! -e "$ROOT$p" ] || fail "$p is left after the purge"
done
[ "$(prop nat64-health LoadState)" = not-found ] || fail "systemd still knows nat64-health.service: $(prop nat64-health LoadState)"
snapshot >"$WORK/after.txt"
if ! diff -u "$WORK/before.txt" "$WORK/after.txt" >"$LOGS/leftovers.diff"; then
  cat "$LOGS/leftovers.diff"
  fail "the root differs from before the installation (see above)"
fi
in_ct rndc status >/dev/null || fail "named is not well after the purge"
ok "purge: nothing of the package is left (state directory, enablement included), BIND's files untouched, named runs"

# --- 8. upgrade ------------------------------------------------------------------------------------------
step "8. upgrade from $OLD_VERSION to $DEB_VERSION"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$OLD_IN_CT" >"$LOGS/install-old.log" 2>&1 ||
  fail "apt-get install of $OLD_VERSION failed (see install-old.log)"
sed -i "s|^options {|&\n\t$INCLUDE_LINE|" "$ROOT/etc/bind/named.conf.options"
in_ct sh -c 'named-checkconf && rndc reconfig' || fail "named-checkconf && rndc reconfig (upgrade)"
write_config gw-a-edited
cp "$ROOT$CONFIG" "$WORK/config.edited"
in_ct systemctl enable --now nat64-health >/dev/null 2>&1 || fail "systemctl enable --now ($OLD_VERSION)"
[ "$(status_text)" = "active: gw-a-edited, gw-c" ] || fail "$OLD_VERSION: StatusText '$(status_text)'"
down "$ADDR_C"
wait_for 30 "$PREFIX_C draining ($OLD_VERSION)" draining "$PREFIX_C"
DRAIN_SINCE=$(drain_since "$PREFIX_C")
wait_for 10 "StatusText active: gw-a-edited" status_is "active: gw-a-edited"
ok "$OLD_VERSION runs with an edited config; $PREFIX_C drains since $DRAIN_SINCE"

OLD_PID=$(main_pid)
# BIND's answers all through the upgrade, one query after another
rm -f "$ROOT/var/tmp/pkgtest/stop-dig"
in_ct sh -c 'while [ ! -e /var/tmp/pkgtest/stop-dig ]; do
  dig @::1 +short +time=1 +tries=1 AAAA www.example.test | sort | paste -sd " " -; done' >"$LOGS/dig-upgrade.log" 2>&1 &
DIG_JOB=$!
PIDS+=($DIG_JOB)
wait_for 10 "the first answers" test -s "$LOGS/dig-upgrade.log"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$NEW_IN_CT" >"$LOGS/upgrade.log" 2>&1 ||
  fail "apt-get install (upgrade) failed (see upgrade.log)"
before=$(wc -l <"$LOGS/dig-upgrade.log")
wait_for 10 "answers after the upgrade" sh -c "[ \$(wc -l <'$LOGS/dig-upgrade.log') -gt $before ]"
touch "$ROOT/var/tmp/pkgtest/stop-dig"
wait "$DIG_JOB" || true
[ "$(in_ct dpkg-query -W -f '${Version}' nat64-health)" = "$DEB_VERSION" ] || fail "not upgraded"
cmp -s "$ROOT$CONFIG" "$WORK/config.edited" || fail "the upgrade changed the edited config"
[ ! -e "$ROOT$CONFIG.dpkg-new" ] && [ ! -e "$ROOT$CONFIG.dpkg-dist" ] || fail "the upgrade left a .dpkg-new/.dpkg-dist"
NEW_PID=$(main_pid)
[ "$NEW_PID" != "$OLD_PID" ] && [ "$(prop nat64-health ActiveState)" = active ] || fail "the upgrade did not restart the running service"
in_journal "restored the previous active set .*draining=$PREFIX_C" -u nat64-health _PID="$NEW_PID" ||
  fail "the restarted daemon did not restore its state"
[ "$(drain_since "$PREFIX_C")" = "$DRAIN_SINCE" ] || fail "the drain restarted"
[ "$(status_text)" = "active: gw-a-edited" ] || fail "after the upgrade: StatusText '$(status_text)'"
answers=$(sort "$LOGS/dig-upgrade.log" | uniq -c | sed 's/^ *//' | paste -sd ';')
[ "$(sort -u "$LOGS/dig-upgrade.log")" = "$ADDR_A" ] || fail "BIND's answers during the upgrade: $answers"
ok "upgrade to $DEB_VERSION: config edit kept, service restarted (pid $OLD_PID -> $NEW_PID) with its state ($PREFIX_C still draining since $DRAIN_SINCE)"
ok "BIND answered throughout the upgrade: $(wc -l <"$LOGS/dig-upgrade.log") queries, all $ADDR_A"

log "done"
echo "package test: $PASSED passed, 0 failed in $(($(date +%s) - START)) s (exposure: ${EXPOSURE#*: })"
