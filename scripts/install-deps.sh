#!/usr/bin/env bash
# Installs what nat64-health needs from Debian's archive (run as root on Debian 12 or 13).
#   install-deps.sh run    the daemon: Node.js >= 20.19, rndc/named-checkconf, fping
#   install-deps.sh test   also what the test suite starts for real: named, dig, TAYGA, sshd,
#                          Chromium (status page), curl, prometheus (the server scrapes the daemon
#                          and evaluates the shipped rules; promtool checks metrics and tests the
#                          rules), and the Debian packaging tools
set -euo pipefail
mode=${1:-run}
export DEBIAN_FRONTEND=noninteractive

packages=(bind9-utils fping iproute2 ca-certificates)
if [ "$mode" = test ]; then
  packages+=(bind9 dnsutils tayga nftables openssh-server openssh-client curl chromium prometheus
             debootstrap lintian debhelper dpkg-dev fakeroot systemd systemd-container zstd)
fi

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  # Debian 13 ships Node.js 20.19; on older releases install Node.js >= 20.19 yourself first.
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
node_ok || { echo "Node.js >= 20.19 is required (found $(node --version 2>/dev/null || echo none))" >&2; exit 1; }
# Debian starts named when bind9 is installed; the tests start their own, on their own addresses.
echo "dependencies for '$mode' are installed"
