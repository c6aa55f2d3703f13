#!/usr/bin/env bash
# make rpm: dist/xstui-<version>-1.x86_64.rpm from the bundle's tarball.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/xstui/__init__.py")"
TARBALL="$ROOT/dist/xstui-$VERSION-linux-x86_64.tar.gz"
[ -f "$TARBALL" ] || { echo "rpm: $TARBALL is missing: make bundle first" >&2; exit 1; }
command -v rpmbuild >/dev/null || { apt-get update -qq && apt-get install -y -qq rpm >/dev/null; }
TOP="$ROOT/build/rpm"
rm -rf "$TOP" && mkdir -p "$TOP"
rpmbuild -bb --quiet \
    --define "_topdir $TOP" \
    --define "xstui_version $VERSION" \
    --define "xstui_tarball $TARBALL" \
    --define "__os_install_post %{nil}" \
    --define "debug_package %{nil}" \
    --define "_build_id_links none" \
    "$ROOT/tools/bundle/xstui.spec"
# into dist/ whole or not at all
OUT="$ROOT/dist/xstui-$VERSION-1.x86_64.rpm"
PART="$ROOT/dist/.xstui-$VERSION-1.x86_64.rpm.part"
trap 'rm -f "$PART"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$TOP"/RPMS/x86_64/xstui-"$VERSION"-1.x86_64.rpm "$PART"
mv -f "$PART" "$OUT"
echo "rpm: $OUT"
