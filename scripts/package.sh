#!/usr/bin/env bash
# Builds the Debian package libapache2-mod-validate-jwt with dpkg-buildpackage -us -uc -b
# in a copy of the source tree (build-deb/mod-validate-jwt-VERSION), so that nothing is
# written beside the tree; the .deb, .buildinfo and .changes land in build-deb/. Installs
# the build dependencies (debian/control) and lintian from apt when they are missing, and
# fails when lintian reports an error.
#
#   scripts/package.sh              build, then lintian
#   scripts/package.sh --changelog  add a debian/changelog entry for the version in VERSION
#
# The version has one home, VERSION: configure.ac reads it (m4_esyscmd_s) and debian/rules
# refuses to build when debian/changelog carries another one.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat VERSION)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "package.sh: need root or sudo for apt" >&2; exit 1; }
  SUDO=sudo
fi

if [ "${1:-}" = "--changelog" ]; then
  current=$(dpkg-parsechangelog -SVersion)
  if [ "$current" = "$version" ]; then
    echo "package.sh: debian/changelog already has $version"
    exit 0
  fi
  maint=$(dpkg-parsechangelog -SMaintainer)
  { printf 'mod-validate-jwt (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n\n' \
      "$version" "$version" "$maint" "$(date -R)"; cat debian/changelog; } >debian/changelog.new
  mv debian/changelog.new debian/changelog
  echo "package.sh: debian/changelog now starts with $version"
  exit 0
fi

# build dependencies (the Build-Depends of debian/control) and the tools
need=(dpkg-dev debhelper dh-autoreconf autoconf automake libtool lintian)
while read -r dep; do
  need+=("$dep")
done < <(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' debian/control | grep -v '^Standards' |
         sed 's/^Build-Depends://' | tr ',' '\n' | sed 's/(.*)//; s/^ *//; s/ *$//' | grep -v '^$')
missing=()
for p in "${need[@]}"; do
  [ "$p" = "debhelper-compat" ] && continue
  [ "$p" = "dh-apache2" ] && p=apache2-dev   # apache2-dev provides dh-apache2
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "package.sh: installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# a clean copy of the tree: the tracked files (git), else the unpacked tarball as it is
out=$PWD/build-deb
src=$out/mod-validate-jwt-$version
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$src"
else
  tar --exclude=./build-deb -cf - . | tar -xf - -C "$src"
  (cd "$src" && { [ ! -f Makefile ] || make -s distclean >/dev/null 2>&1 || true; })
fi

(cd "$src" && dpkg-buildpackage -us -uc -b)
deb=$(ls "$out"/libapache2-mod-validate-jwt_"$version"_*.deb)
echo "package.sh: built $deb"
dpkg-deb -c "$deb"
# lintian: no errors (warnings and notes are printed)
lintian --fail-on error --info "$out"/mod-validate-jwt_"$version"_*.changes
echo "package.sh: lintian found no errors"
