#!/usr/bin/env bash
# make bundle-lock: (re)write what `make bundle` builds from, with hashes.
#   tools/bundle/sources.lock  Debian source packages: for each, the newest version
#                              whose upstream tarball the registry serves, that
#                              tarball's name and SHA-256 (downloaded and checked
#                              against Debian's index); the tarball's time stamps
#   tools/bundle/tools.lock    zig (ziglang from PyPI), a pip requirements file with its hash
#   tools/bundle/wheels.lock   the manylinux2014 / cp311 wheels of pyproject.toml's
#                              dependencies and of theirs, with their hashes
# Run as root (apt-get). ZIG=0.x.y picks another zig (default: the locked one).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$ROOT/build/bundle"
SRC="$WORK/src"
NAME=bundle-lock
# shellcheck source=tools/bundle/lib.sh
. "$ROOT/tools/bundle/lib.sh"
PACKAGES="python3.11 zlib openssl"
ZIG="${ZIG:-$(sed -n 's/^ziglang==\([^ ]*\).*/\1/p' "$HERE/tools.lock" 2>/dev/null || true)}"
ZIG="${ZIG:-0.17.1}"
NEW="$WORK/lock.new"
cleanup() { sources_cleanup; rm -rf "$NEW"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$SRC"
rm -rf "$NEW" && mkdir -p "$NEW"

# --- Debian sources ------------------------------------------------------------------
deb_src_on
[ "$APT_STATE" = ok ] || die "apt-get update could not fetch the index (no network?): $(rel "$APT_LOG")"
rows=()
for pkg in $PACKAGES; do
    versions="$(versions_of "$pkg")"
    [ -n "$versions" ] || die "$pkg: no source package in the deb-src index"
    candidate="$(head -1 <<<"$versions")"
    read -r candidate_sha _ <<<"$(index_orig "$pkg" "$candidate")"
    locked=""
    for v in $versions; do
        read -r want file <<<"$(index_orig "$pkg" "$v")"
        if ! path="$(fetch_orig "$pkg" "$v")"; then
            log "$pkg $v: its upstream tarball is not served"
            continue
        fi
        got="$(sha256_of "$path")"
        if [ -n "$want" ] && [ "$got" != "$want" ]; then
            log "$pkg $v: $(basename "$path") has sha256 $(short "$got"), Debian's index says $(short "$want"): skipped"
            continue
        fi
        file="$(basename "$path")"
        served="orig tarball served"
        [ -f "$FETCH/${pkg}_${v#*:}.dsc" ] || served="$served (its .dsc is not: harmless)"
        note=""
        if [ "$v" != "$candidate" ]; then
            note=" instead of apt's candidate $candidate"
            [ "$got" = "$candidate_sha" ] && note="$note (same upstream tarball: same sha256 in Debian's index)"
        fi
        log "$pkg $v: $served, sha256 $(short "$got") verified; locked$note"
        mv -f "$path" "$SRC/$file"  # the build's cache: it need not fetch it again
        rows+=("$(printf '%-12s %-22s %-34s %s' "$pkg" "$v" "$file" "$got")")
        locked=1
        break
    done
    [ -n "$locked" ] || die "$pkg: no version's upstream tarball could be fetched (tried: $(tr '\n' ' ' <<<"$versions")); apt's messages: $(rel "$APT_LOG")"
done

# --- zig, and a venv with pip for the rest ---------------------------------------------
[ -x "$WORK/tools/bin/python" ] || python3 -m venv "$WORK/tools"
pip() {  # the machine's pip.conf may name find-links folders that are not there: not news
    { "$WORK/tools/bin/python" -m pip "$@" 2>&1; } | { grep -v '^WARNING: Location .* is ignored' || true; }
}
pip download --quiet --no-deps -d "$NEW/zig" "ziglang==$ZIG"
zig_whl="$(ls "$NEW"/zig/ziglang-*.whl)"
{
    echo "# zig for make bundle (its cc targets glibc 2.17): pip install --require-hashes -r this."
    echo "# Written by tools/bundle/lock.sh (make bundle-lock); the hash is of the wheel for the"
    echo "# build machine (x86-64 Linux): $(basename "$zig_whl")"
    echo "ziglang==$ZIG \\"
    echo "    --hash=sha256:$(sha256_of "$zig_whl")"
} > "$NEW/tools.lock"
log "ziglang $ZIG: $(basename "$zig_whl")"

# --- wheels: what pip resolves for the bundle's Python and dom0 ------------------------
TARGET=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 --abi abi3
        --abi none --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any)
DEPS_JSON="$("$WORK/tools/bin/python" - "$ROOT/pyproject.toml" <<'EOF'
import json, sys, tomllib
print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
EOF
)"
mapfile -t DEPS_LIST < <("$WORK/tools/bin/python" -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$DEPS_JSON")
pip download --quiet "${TARGET[@]}" -d "$NEW/wheels" "${DEPS_LIST[@]}"
"$WORK/tools/bin/python" - "$NEW/wheels" "$DEPS_JSON" > "$NEW/wheels.lock" <<'EOF'
import hashlib, pathlib, re, sys
folder, deps = pathlib.Path(sys.argv[1]), sys.argv[2]
print("# The wheels of the bundle's dependencies and theirs, for CPython 3.11 on manylinux2014")
print("# x86_64 (cp311/abi3/none; manylinux2014_x86_64, manylinux_2_17_x86_64, any): make bundle")
print("# downloads them with pip download --no-deps --require-hashes -r this.")
print("# Written by tools/bundle/lock.sh (make bundle-lock) for pyproject.toml's dependencies:")
print(f"# dependencies: {deps}")
for whl in sorted(folder.glob("*.whl"), key=lambda p: p.name.lower()):
    name, version = whl.name.split("-")[:2]
    name = re.sub(r"[-_.]+", "-", name).lower()
    digest = hashlib.sha256(whl.read_bytes()).hexdigest()
    print(f"{name}=={version} \\\n    --hash=sha256:{digest}  # {whl.name}")
EOF
log "wheels: $(grep -c '^[a-z]' "$NEW/wheels.lock") ($(grep '^[a-z]' "$NEW/wheels.lock" | cut -d' ' -f1 | paste -sd' '))"

# --- sources.lock; its time stamp stays while nothing else in the locks changes ---------
{
    echo "# Debian source packages of make bundle: their upstream tarball (*.orig.tar.*) is what"
    echo "# is built. build.sh fetches the locked version (apt-get source), or another version"
    echo "# of the same upstream release when the registry does not serve it; the sha256 decides."
    echo "# Written by tools/bundle/lock.sh (make bundle-lock). SOURCE_DATE_EPOCH: the time stamp"
    echo "# of every file in the tarball, and the compilers' __DATE__."
    echo "# package   version                orig tarball                       sha256"
    printf '%s\n' "${rows[@]}"
} > "$NEW/sources.lock"
body() { cat "$@" 2>/dev/null | grep -v '^SOURCE_DATE_EPOCH' || true; }
epoch="$(sed -n 's/^SOURCE_DATE_EPOCH \([0-9]*\)$/\1/p' "$HERE/sources.lock" 2>/dev/null || true)"
if [ -z "$epoch" ] || [ "$(body "$NEW"/{sources,tools,wheels}.lock)" != "$(body "$HERE"/{sources,tools,wheels}.lock)" ]; then
    epoch="$(date +%s)"
fi
echo "SOURCE_DATE_EPOCH $epoch" >> "$NEW/sources.lock"
for f in sources tools wheels; do mv -f "$NEW/$f.lock" "$HERE/$f.lock"; done
log "wrote $(rel "$HERE")/{sources,tools,wheels}.lock"
