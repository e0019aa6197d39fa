#!/bin/bash
# The package test: build the .deb, run lintian, install it with apt into a clean Debian trixie
# root (debootstrap, cached), and use it there the way an operator would, against a real named:
# the include line, `validate`, `check`, `render`, the daemon for one apply cycle, a DNS64 answer,
# then purge and compare the root with its state before the installation.
#
# Isolation: everything in the root runs in a network namespace of its own that has nothing but
# a loopback interface, so named listens on its usual port 53 without meeting the host's, and no
# packet can leave (named's root priming and the like fail with "network unreachable"). The
# shipped configuration (public prefixes) is only validated and rendered statically, never probed:
# the probe rounds use a test configuration with documentation prefixes whose RFC 6052 addresses
# are put on that loopback, with a TCP listener and ICMP echo answered by the kernel.
#
# The daemon runs as its unit would start it: ExecStart=, User=/Group=, the ambient and bounding
# capabilities, NoNewPrivileges, and the file system the unit gives it (read-only but for
# ReadWritePaths=, RuntimeDirectory= and a private /tmp; /proc with hidepid=invisible,subset=pid),
# all read from the installed unit, and a stand-in for systemd's notification socket receives its
# READY=1/STATUS= messages. systemd itself is not running here, so the system call filter and the
# remaining sandboxing are checked with systemd-analyze (verify, security) from the root's own
# systemd (trixie's 257).
#
# Needs root. Installs what it lacks with apt-get (dpkg-dev debhelper lintian debootstrap
# iproute2 zstd). Environment:
#   NH_PKGTEST_CACHE   root tarball cache (default /var/cache/nat64-health-test); delete to rebuild
#   NH_PKGTEST_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   NH_PKGTEST_DEB     test this .deb instead of building one (skips build and lintian)
#   NH_KEEP=1          keep the work directory (root, logs) for a look afterwards
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=trixie
MIRROR=${NH_PKGTEST_MIRROR:-http://deb.debian.org/debian}
CACHE=${NH_PKGTEST_CACHE:-/var/cache/nat64-health-test}
# nodejs (and the CA certificates it recommends), named and its tools, dig, fping (a Recommends,
# and the ICMP probe), systemd (systemd-analyze), util-linux's setpriv (to start the daemon with
# the unit's user and capabilities); then with apt (debootstrap's resolver fails on its perl
# dependencies) lintian, trixie's, besides the host's.
ROOT_PACKAGES=nodejs,ca-certificates,bind9,bind9-utils,bind9-dnsutils,fping,systemd,util-linux
ROOT_APT_PACKAGES=lintian
SECURITY_THRESHOLD=25 # systemd-analyze security's exposure x 10: at most 2.5

INCLUDE_FILE=/var/lib/bind/nat64-health/dns64.conf
INCLUDE_LINE="include \"$INCLUDE_FILE\";"
UNIT=/usr/lib/systemd/system/nat64-health.service
# Test prefixes (documentation space): a and c are "up" (their addresses of the target are on
# the namespace's loopback), b leads nowhere.
TARGET4=192.0.2.10
TARGET_PORT=8080
PREFIX_A=2001:db8:64:a::/96 ADDR_A=2001:db8:64:a::c000:20a
PREFIX_B=2001:db8:64:b::/96 ADDR_B=2001:db8:64:b::c000:20a
PREFIX_C=2001:db8:64:c::/96 ADDR_C=2001:db8:64:c::c000:20a

START=$(date +%s)
WORK=$(mktemp -d /var/tmp/nh-pkgtest.XXXXXX)
ROOT=$WORK/root
LOGS=$WORK/logs
NETNS=nh-pkgtest-$$
PIDS=()
MOUNTS=()
PASSED=0

log() { printf '[%4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
fail() {
  echo "FAIL: $*" >&2
  echo "package test: $PASSED passed, 1 failed"
  exit 1
}
ok() {
  PASSED=$((PASSED + 1))
  echo "  ok: $*"
}
# in_root CMD...: run in the test root, in the test network namespace, as root
in_root() { ip netns exec "$NETNS" chroot "$ROOT" "$@"; }

cleanup() {
  local rc=$?
  set +e
  [ $rc -ne 0 ] && cp "$ROOT/run/nat64-health/state.json" "$LOGS/state.json" 2>/dev/null
  # What this script started: its background jobs, and whatever runs in its network namespace
  # (named, the listener, the daemon and their children).
  local pids=("${PIDS[@]}")
  [ -e "/run/netns/$NETNS" ] && pids+=($(ip netns pids "$NETNS"))
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    timeout 10 tail --pid="$pid" -f /dev/null
    kill -9 "$pid" 2>/dev/null
  done
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    mountpoint -q "${MOUNTS[i]}" && { umount -R "${MOUNTS[i]}" 2>/dev/null || umount -R -l "${MOUNTS[i]}"; }
  done
  ip netns del "$NETNS" 2>/dev/null
  if [ $rc -ne 0 ] && [ -d "$LOGS" ]; then
    for f in "$LOGS"/*; do
      [ -f "$f" ] || continue
      echo "----- $(basename "$f") (last 40 lines)"
      tail -n 40 "$f"
    done
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

mount_in_root() { # mount_in_root TARGET MOUNT-ARGS...
  local target=$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  MOUNTS+=("$target")
}

wait_for() { # wait_for SECONDS DESCRIPTION CMD...: poll until CMD succeeds
  local deadline=$(($(date +%s) + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "test/package/run.sh needs root (debootstrap, chroot, network namespaces)" >&2; exit 1; }
mkdir -p "$LOGS"

need=()
for pair in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian debootstrap:debootstrap ip:iproute2 zstd:zstd unshare:util-linux; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$LOGS/apt-host.log"
fi

# --- build and lintian ------------------------------------------------------------------------
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

# --- the trixie root ----------------------------------------------------------------------------
key=$(printf '%s %s %s %s' "$SUITE" "$ROOT_PACKAGES" "$ROOT_APT_PACKAGES" "$MIRROR" | sha256sum | cut -c1-12)
TARBALL=$CACHE/$SUITE-minbase-$key.tar.zst
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build of the cached root at a time
if [ ! -s "$TARBALL" ]; then
  log "debootstrap $SUITE (not cached yet: $TARBALL)"
  boot=$WORK/bootstrap # under $WORK: cleaned up (and unmounted) with it
  debootstrap --variant=minbase --include="$ROOT_PACKAGES" "$SUITE" "$boot" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
    fail "debootstrap failed (see debootstrap.log)"
  cp /etc/resolv.conf "$boot/etc/resolv.conf"
  mount_in_root "$boot/proc" -t proc proc
  if ! { chroot "$boot" apt-get update -q && chroot "$boot" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $ROOT_APT_PACKAGES; } >>"$LOGS/debootstrap.log" 2>&1; then
    fail "apt-get install $ROOT_APT_PACKAGES in the new root failed (see debootstrap.log)"
  fi
  umount "$boot/proc"
  # as debootstrap leaves it: no package lists, no downloaded packages, no resolver config
  chroot "$boot" apt-get clean
  rm -rf "$boot"/var/lib/apt/lists/* "$boot/etc/resolv.conf"
  chmod 0755 "$boot"
  tar -C "$boot" --numeric-owner --zstd -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$boot"
  # roots of earlier package lists or mirrors
  find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar.zst" ! -path "$TARBALL" -delete
fi
exec 9>&-
log "unpacking a fresh root from $TARBALL"
mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner --zstd -xf "$TARBALL"
chmod 0755 "$ROOT" # mktemp -d made it 0700: named, the daemon (users bind, nobody) must get in
ok "clean $SUITE root ($(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME"), nodejs $(chroot "$ROOT" dpkg-query -W -f '${Version}' nodejs), bind9 $(chroot "$ROOT" dpkg-query -W -f '${Version}' bind9))"

if [ -z "${NH_PKGTEST_DEB:-}" ]; then
  # trixie's lintian too: the package targets trixie, whose lintian knows more (e.g. /usr-merge)
  install -m 0644 "$REPO"/build/deb/nat64-health_* "$ROOT/tmp/"
  if ! chroot --userspec=nobody:nogroup "$ROOT" env HOME=/tmp lintian --fail-on error,warning --display-info \
    /tmp/"$(basename "$REPO"/build/deb/nat64-health_*.changes)" >"$LOGS/lintian-trixie.log" 2>&1; then
    cat "$LOGS/lintian-trixie.log"
    fail "trixie's lintian reports errors or warnings"
  fi
  sed 's/^/  lintian (trixie): /' "$LOGS/lintian-trixie.log"
  ok "lintian $(chroot "$ROOT" dpkg-query -W -f '${Version}' lintian) ($SUITE): no errors, no warnings"
  rm -f "$ROOT"/tmp/nat64-health_*
fi

mount_in_root "$ROOT/proc" -t proc proc
mount_in_root "$ROOT/sys" --bind /sys
mount -o remount,bind,ro "$ROOT/sys"
mount_in_root "$ROOT/dev" --rbind /dev # with /dev/pts, for apt
mount --make-rslave "$ROOT/dev"       # so that unmounting it never reaches the host's /dev
mount_in_root "$ROOT/run" -t tmpfs -o mode=0755,nosuid,nodev tmpfs
mount_in_root "$ROOT/tmp" -t tmpfs -o mode=1777,nosuid,nodev tmpfs

ip netns add "$NETNS"
ip -n "$NETNS" link set lo up
for a in "$ADDR_A" "$ADDR_C"; do ip -n "$NETNS" addr add "$a/128" dev lo nodad; done

# --- BIND, running before the package arrives ----------------------------------------------------
cat >"$ROOT/etc/bind/db.example.test" <<'EOF'
$TTL 60
@   IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@   IN NS  localhost.
www IN A   192.0.2.10
EOF
cat >>"$ROOT/etc/bind/named.conf.local" <<'EOF'
zone "example.test" { type primary; file "/etc/bind/db.example.test"; };
EOF
chroot "$ROOT" install -d -o bind -g bind -m 0775 /run/named
log "starting named in the root"
ip netns exec "$NETNS" chroot "$ROOT" /usr/sbin/named -g -u bind >"$LOGS/named.log" 2>&1 &
PIDS+=($!)
wait_for 30 "named (rndc status)" in_root rndc status
ok "named runs ($(in_root named -v))"

# What the root looks like before the installation, to compare after the purge.
snapshot() {
  (cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
    -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \) -prune -o \
    -printf '%p %y %u:%g %m\n' | sort)
}
snapshot >"$WORK/before.txt"

# --- install ---------------------------------------------------------------------------------------
cp "$DEB" "$ROOT/tmp/"
log "apt-get install ./$(basename "$DEB")"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "/tmp/$(basename "$DEB")" >"$LOGS/install.log" 2>&1 ||
  fail "apt-get install failed (see install.log)"
grep -qF "$INCLUDE_LINE" "$LOGS/install.log" || fail "postinst did not print the include line"
ok "installed with apt; postinst printed: $INCLUDE_LINE"

# (stat in the root: the host's user names differ)
[ "$(in_root stat -c '%U:%G %a' "$INCLUDE_FILE")" = "bind:bind 644" ] || fail "$INCLUDE_FILE: $(in_root stat -c '%U:%G %a' "$INCLUDE_FILE")"
[ "$(in_root stat -c '%U:%G' "$(dirname $INCLUDE_FILE)")" = "bind:bind" ] || fail "$(dirname $INCLUDE_FILE) is not owned by bind"
grep -qx /etc/nat64-health/config.yaml "$ROOT/var/lib/dpkg/info/nat64-health.conffiles" || fail "config.yaml is not a conffile"
for f in /usr/bin/nat64-health /usr/share/man/man8/nat64-health.8.gz /usr/share/bash-completion/completions/nat64-health \
  /usr/share/zsh/vendor-completions/_nat64-health /usr/share/nat64-health/templates/dns64.conf.hbs "$UNIT"; do
  [ -e "$ROOT$f" ] || fail "$f is missing"
done
ok "files: include file (bind:bind 0644), conffile, CLI, man page, completions, templates, unit"
in_root nat64-health --version >/dev/null || fail "nat64-health --version"
completions=$(in_root bash -c '. /usr/share/bash-completion/completions/nat64-health
  COMP_WORDS=(nat64-health va); COMP_CWORD=1; _nat64-health_yargs_completions; echo "${COMPREPLY[*]}"')
[ "$completions" = validate ] || fail "bash completion of 'nat64-health va': '$completions'"
ok "bash completion: nat64-health va<TAB> -> validate"
ok "nat64-health $(in_root nat64-health --version) runs on the root's node $(in_root node --version)"

# systemd-analyze of the root's own systemd (trixie's), offline. Documentation= is checked above
# (the root has no man-db).
in_root systemd-analyze verify --man=no "$UNIT" >"$LOGS/verify.log" 2>&1 || { cat "$LOGS/verify.log"; fail "systemd-analyze verify"; }
ok "systemd-analyze verify $UNIT ($(in_root systemd-analyze --version | head -1))"
in_root systemd-analyze security --offline=true --threshold=$SECURITY_THRESHOLD "$UNIT" >"$LOGS/security.log" 2>&1 ||
  { cat "$LOGS/security.log"; fail "systemd-analyze security: exposure above $((SECURITY_THRESHOLD / 10)).$((SECURITY_THRESHOLD % 10))"; }
ok "systemd-analyze security: $(grep -o 'Overall exposure level.*' "$LOGS/security.log")"

# --- the operator's steps: include line, validate, check, render ----------------------------------
cp "$ROOT/etc/bind/named.conf.options" "$WORK/named.conf.options.orig"
sed -i "s|^options {|&\n\t$INCLUDE_LINE|" "$ROOT/etc/bind/named.conf.options"
in_root named-checkconf || fail "named-checkconf with the package's empty include file"
in_root rndc reconfig || fail "rndc reconfig with the package's empty include file"
ok "BIND accepts the include line with the package's initial (empty) file"

in_root nat64-health validate --bind >"$LOGS/validate-shipped.log" 2>&1 || { cat "$LOGS/validate-shipped.log"; fail "validate --bind of the shipped config"; }
in_root nat64-health render --static >"$LOGS/render-shipped.txt" || fail "render --static of the shipped config"
[ "$(grep -c '^dns64 ' "$LOGS/render-shipped.txt")" = 4 ] || fail "the shipped config should render 4 public prefixes"
ok "shipped config: validate --bind passes (named-checkconf accepts its 4 public prefixes), not probed"

# The operator edits the one YAML file (here: a test setup that stays on the loopback).
cat >"$ROOT/etc/nat64-health/config.yaml" <<EOF
# package test: documentation prefixes; a and c reach the target on the loopback, b does not
prefixes:
  - { prefix: "$PREFIX_A", name: gw-a }
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
select:
  min_active: 1
  max_active: 2
bind:
  mode: include
  output: $INCLUDE_FILE
EOF
# the IPv4 service "behind" the NAT64s: a TCP listener on the loopback, run with the root's node
ip netns exec "$NETNS" chroot --userspec=nobody:nogroup "$ROOT" /usr/bin/node -e \
  "require('net').createServer((s) => s.on('error', () => {}).end('hello\n')).listen($TARGET_PORT, '::', () => console.log('listening'))" >"$LOGS/listener.log" 2>&1 &
PIDS+=($!)
wait_for 10 "the TCP listener" grep -q listening "$LOGS/listener.log"

in_root nat64-health validate --bind >/dev/null || fail "validate --bind of the test config"
rc=0
in_root nat64-health check --json >"$WORK/check.json" 2>"$LOGS/check.err" || rc=$?
[ $rc = 1 ] || { cat "$WORK/check.json" "$LOGS/check.err"; fail "check: exit $rc, expected 1 (some prefixes healthy)"; }
node - "$WORK/check.json" "$PREFIX_A" "$PREFIX_B" "$PREFIX_C" <<'EOF' || fail "check --json"
const [file, a, b, c] = process.argv.slice(2);
const r = JSON.parse(require('fs').readFileSync(file, 'utf8'));
const by = Object.fromEntries(r.prefixes.map((p) => [p.prefix, p]));
const problems = [];
if (!by[a]?.healthy) problems.push(`${a} should be healthy`);
if (!by[c]?.healthy) problems.push(`${c} should be healthy`);
if (by[b]?.healthy !== false) problems.push(`${b} should be unhealthy`);
const icmp = by[a]?.targets.find((t) => t.probe.startsWith('icmp'));
if (!icmp?.ok) problems.push(`ICMP through ${a} failed: ${JSON.stringify(icmp)}`);
if (r.target_faults.length) problems.push(`target faults: ${r.target_faults}`);
if (problems.length) { console.error(problems.join('\n')); console.error(JSON.stringify(r, null, 2)); process.exit(1); }
EOF
ok "check: exit 1; $PREFIX_A and $PREFIX_C healthy (TCP and ICMP via fping), $PREFIX_B not"

in_root nat64-health render >"$WORK/render.txt" || fail "render"
grep -q "^dns64 $PREFIX_A {" "$WORK/render.txt" && grep -q "^dns64 $PREFIX_C {" "$WORK/render.txt" && ! grep -q "$PREFIX_B" "$WORK/render.txt" ||
  { cat "$WORK/render.txt"; fail "render: expected $PREFIX_A and $PREFIX_C only"; }
ok "render: $PREFIX_A and $PREFIX_C"

# --- one apply cycle: the daemon as the unit starts it ----------------------------------------
unit_value() { sed -n "s/^$1=//p" "$ROOT$UNIT" | tail -1; }
EXEC_START=$(unit_value ExecStart)
RUN_USER=$(unit_value User)
RUN_GROUP=$(unit_value Group)
CAPS=$(unit_value AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g')
BOUNDING=$(unit_value CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g')
RW_PATHS=$(sed -n 's/^ReadWritePaths=//p' "$ROOT$UNIT" | tr '\n' ' ')
RUNTIME_DIR=/run/$(unit_value RuntimeDirectory)
[ "$(unit_value NoNewPrivileges)" = yes ] && [ "$(unit_value ProtectSystem)" = strict ] && [ "$(unit_value PrivateTmp)" = yes ] ||
  fail "the unit changed: NoNewPrivileges=yes, ProtectSystem=strict and PrivateTmp=yes are emulated here"
chroot "$ROOT" install -d -o "$RUN_USER" -g "$RUN_GROUP" -m "$(unit_value RuntimeDirectoryMode)" "$RUNTIME_DIR"

# as_unit CMD...: run CMD the way systemd runs the unit's ExecStart=, as far as that can be done
# without systemd: in a private mount namespace where everything is read-only (ProtectSystem=
# strict, which covers /run too) except ReadWritePaths= and the RuntimeDirectory=, with a private
# /tmp and /proc mounted hidepid=invisible,subset=pid (ProtectProc=, ProcSubset=); then in the
# root, as User=/Group= with the unit's ambient and bounding capabilities and NoNewPrivileges, in
# systemd's clean environment (plus NOTIFY_SOCKET).
as_unit() {
  ip netns exec "$NETNS" unshare --mount --propagation private -- /bin/bash -euc '
    root=$1 rw=$2 caps=$3 bounding=$4 user=$5 group=$6 notify=$7
    shift 7
    mount --rbind "$root" "$root"
    mount -o remount,bind,ro "$root"
    mount -o remount,bind,ro "$root/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
    mount -t proc -o hidepid=invisible,subset=pid proc "$root/proc"
    for p in $rw; do mount --bind "$root$p" "$root$p"; mount -o remount,bind,rw "$root$p"; done
    exec chroot "$root" /usr/bin/setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
      --inh-caps=-all,+"$caps" --ambient-caps=-all,+"$caps" --bounding-set=-all,+"$bounding" \
      -- /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 ${notify:+NOTIFY_SOCKET=$notify} "$@"
  ' as-unit "$ROOT" "$RW_PATHS $RUNTIME_DIR" "$CAPS" "$BOUNDING" "$RUN_USER" "$RUN_GROUP" "${NOTIFY_SOCKET_PATH:-}" "$@"
}
# The sandbox itself: writable where the unit says, read-only elsewhere, CAP_NET_RAW only.
as_unit /bin/sh -c "touch $(dirname "$INCLUDE_FILE")/.probe $RUNTIME_DIR/.probe /tmp/.probe && rm $(dirname "$INCLUDE_FILE")/.probe $RUNTIME_DIR/.probe" ||
  fail "the emulated unit cannot write its ReadWritePaths/RuntimeDirectory"
for p in /var/lib/bind/.probe /etc/bind/.probe /run/.probe /var/tmp/.probe; do
  if as_unit /bin/sh -c "touch $p" 2>/dev/null; then rm -f "$ROOT$p"; fail "the emulated unit could write $p"; fi
done
[ "$(as_unit /bin/sh -c 'grep ^CapEff /proc/self/status')" = "CapEff:	0000000000002000" ] || fail "the emulated unit should hold CAP_NET_RAW only"
ok "the emulated unit sandbox: writes only $RW_PATHS$RUNTIME_DIR /tmp, holds CAP_NET_RAW only, as $RUN_USER"

# systemd's notification socket, where the root's systemd-notify (called by the daemon) sends to
NOTIFY_SOCKET_PATH=
if command -v python3 >/dev/null; then
  mkdir -p "$ROOT/run/systemd"
  python3 "$REPO/test/support/sd-notify-receiver.py" "$ROOT/run/systemd/notify" "$LOGS/notify.log" >"$WORK/notify.out" 2>&1 &
  PIDS+=($!)
  wait_for 10 "the notify receiver" grep -q ready "$WORK/notify.out"
  NOTIFY_SOCKET_PATH=/run/systemd/notify
else
  echo "  (no python3 on the host: the sd_notify messages are not checked)"
fi

log "starting the daemon: $EXEC_START (user $RUN_USER, ambient caps +$CAPS, read-write: $RW_PATHS$RUNTIME_DIR /tmp)"
# shellcheck disable=SC2086 # ExecStart= is split into words like systemd does (no quoting in it)
as_unit $EXEC_START >"$LOGS/daemon.log" 2>&1 &
DAEMON_JOB=$!

applied() {
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(s.targets?.[0]?.last_apply?.result === "applied" ? 0 : 1);
  ' "$ROOT$RUNTIME_DIR/state.json"
}
wait_for 30 "the daemon's first apply (state file)" applied
# The daemon's own PID (the job above is the shell around it), from the state file.
DAEMON=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pid' "$ROOT$RUNTIME_DIR/state.json")
tr '\0' ' ' <"/proc/$DAEMON/cmdline" | grep -q 'nat64-health.* run' || fail "the state file's pid $DAEMON is not the daemon"
grep -q "^dns64 $PREFIX_A {" "$ROOT$INCLUDE_FILE" && grep -q "^dns64 $PREFIX_C {" "$ROOT$INCLUDE_FILE" && ! grep -q "$PREFIX_B" "$ROOT$INCLUDE_FILE" ||
  { cat "$ROOT$INCLUDE_FILE"; fail "the include file should hold $PREFIX_A and $PREFIX_C"; }
[ "$(in_root stat -c '%U:%G %a' "$INCLUDE_FILE")" = "bind:bind 644" ] || fail "include file after the apply: $(in_root stat -c '%U:%G %a' "$INCLUDE_FILE")"
ok "the daemon (as $RUN_USER, sandboxed like the unit) wrote $INCLUDE_FILE with $PREFIX_A and $PREFIX_C and reloaded named"
node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (s.target_faults.length) { console.error(s.target_faults); process.exit(1); }' "$ROOT$RUNTIME_DIR/state.json" ||
  fail "a probe target failed through every prefix in the daemon (ICMP without CAP_NET_RAW?)"
ok "the daemon's ICMP probes work with the ambient CAP_NET_RAW only"

answer=$(in_root dig @::1 +short +time=2 +tries=1 AAAA www.example.test | sort)
[ "$answer" = "$(printf '%s\n%s' "$ADDR_A" "$ADDR_C")" ] || fail "dig AAAA www.example.test: got '$answer'"
ok "DNS64 answer for www.example.test: $(echo $answer)"

in_root nat64-health status >"$LOGS/status.txt" 2>&1 || { cat "$LOGS/status.txt"; fail "nat64-health status"; }
in_root nat64-health status --json >"$WORK/status.json" || fail "nat64-health status --json"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ok = s.targets[0]?.last_apply?.result === "applied" && s.active.join(" ") === process.argv.slice(2).join(" ");
  if (!ok) { console.error(JSON.stringify(s, null, 2)); process.exit(1); }
' "$WORK/status.json" "$PREFIX_A" "$PREFIX_C" || fail "status --json: expected an applied target and $PREFIX_A $PREFIX_C active"
ok "nat64-health status reads the daemon's state"

# ExecReload= (SIGHUP): the configuration is read again
kill -HUP "$DAEMON"
wait_for 15 "the reload after SIGHUP" grep -q 'configuration reloaded' "$LOGS/daemon.log"
ok "SIGHUP re-reads the configuration"
if [ -n "$NOTIFY_SOCKET_PATH" ]; then
  wait_for 10 "READY=1 after the reload" sh -c "grep -c '^READY=1' '$LOGS/notify.log' | grep -qx 2"
fi

kill -TERM "$DAEMON"
rc=0
timeout 20 tail --pid="$DAEMON" -f /dev/null || fail "the daemon did not stop within 20 s of SIGTERM"
wait "$DAEMON_JOB" || rc=$?
[ $rc = 0 ] || fail "the daemon exited with $rc after SIGTERM"
ok "SIGTERM stops the daemon (exit 0)"
if [ -n "$NOTIFY_SOCKET_PATH" ]; then
  expected="READY=1|STATUS=active: gw-a, gw-c
RELOADING=1|STATUS=re-reading the configuration
READY=1|STATUS=active: gw-a, gw-c
STOPPING=1|STATUS=stopping"
  [ "$(cat "$LOGS/notify.log")" = "$expected" ] || { cat "$LOGS/notify.log"; fail "sd_notify messages differ from: $expected"; }
  ok "sd_notify through the root's systemd-notify: READY=1 with the active prefixes, RELOADING=1/READY=1 on SIGHUP, STOPPING=1"
fi
if grep -E '^(ERROR|WARN) ' "$LOGS/daemon.log" | grep -vF "WARN  prefix $PREFIX_B is down"; then
  fail "the daemon logged errors or warnings (other than $PREFIX_B being down)"
fi
ok "no errors or warnings in the daemon's log (but $PREFIX_B being down)"

# --- purge -------------------------------------------------------------------------------------------
# The README's order: first take the include line out of BIND's configuration, then purge.
cp "$WORK/named.conf.options.orig" "$ROOT/etc/bind/named.conf.options"
in_root rndc reconfig || fail "rndc reconfig without the include line"
log "apt-get purge nat64-health"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y nat64-health >"$LOGS/purge.log" 2>&1 || fail "apt-get purge failed (see purge.log)"
status=$(in_root dpkg-query -W -f '${db:Status-Status}' nat64-health 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "dpkg still knows nat64-health ($status)"
for p in /etc/nat64-health /var/lib/bind/nat64-health /usr/share/nat64-health /usr/bin/nat64-health "$RUNTIME_DIR/state.json"; do
  [ ! -e "$ROOT$p" ] || fail "$p is left after the purge"
done
[ -d "$ROOT/var/lib/bind" ] && [ -d "$ROOT/etc/bind" ] || fail "the purge removed BIND's directories"
snapshot >"$WORK/after.txt"
if ! diff -u "$WORK/before.txt" "$WORK/after.txt" >"$LOGS/leftovers.diff"; then
  cat "$LOGS/leftovers.diff"
  fail "the root differs from before the installation (see above)"
fi
in_root rndc status >/dev/null || fail "named is not well after the purge"
ok "purge: nothing of the package is left, BIND's files untouched, named still runs"

log "done"
echo "package test: $PASSED passed, 0 failed"
