#!/bin/bash
# Builds the Debian package into build/deb/: nat64-health_<version>_all.deb with its .changes and
# .buildinfo (dpkg-buildpackage writes them to the parent directory; they are moved here).
# Extra arguments go to dpkg-buildpackage, e.g. `npm run deb -- -d` where node does not come from
# a Debian package (nvm, a tarball): -d skips the Build-Depends check, which asks dpkg for
# nodejs (>= 20.19); the build itself only needs `node` on PATH.
# Needs: dpkg-dev, debhelper (apt-get install dpkg-dev debhelper) and node_modules (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dpkg-buildpackage dh; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing: apt-get install dpkg-dev debhelper" >&2; exit 1; }
done
[ -x node_modules/.bin/tsc ] && [ -d node_modules/esbuild ] || npm ci
version=$(dpkg-parsechangelog -S Version)
pkgver=$(node -p 'require("./package.json").version')
# dpkg's 1.0~rc1 (before 1.0) is semver's 1.0-rc1
if [ "${version/\~/-}" != "$pkgver" ]; then
  echo "build-deb: debian/changelog is at $version but package.json at $pkgver: add a changelog entry (dch -v $pkgver)" >&2
  exit 1
fi
rm -f ../nat64-health_"$version"_*
dpkg-buildpackage -us -uc -b "$@"
mkdir -p build/deb
rm -f build/deb/nat64-health_*
mv ../nat64-health_"$version"_* build/deb/
ls -l build/deb/
