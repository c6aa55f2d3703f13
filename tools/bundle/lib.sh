# Sourced by build.sh and lock.sh (not run): logging, hashes, and the upstream
# tarballs (*.orig.tar.*) of Debian source packages through a temporary
# deb-src entry, removed on exit. Needs ROOT, WORK, SRC and NAME set; root (apt).
HERE="$ROOT/tools/bundle"
APT_DIR=/etc/apt/sources.list.d
APT_TEMP="$APT_DIR/xstui-bundle-src"  # .sources (deb822) or .list (one-line format)
APT_LOG="$WORK/apt.log"                # apt's own messages, for when a fetch fails
APT_STATE=""                           # "" (not yet), ok, failed (apt-get update could not fetch)
FETCH="$SRC/.fetch"                    # one download attempt's folder

log() { printf '%s %s: %s\n' "$(date +%H:%M:%S)" "$NAME" "$*"; }
die() { printf '%s: %s\n' "$NAME" "$*" >&2; exit 1; }
rel() { printf '%s' "${1#"$ROOT"/}"; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
short() { printf '%s…' "${1:0:16}"; }
join_list() { local out="" x; for x in "$@"; do out="${out:+$out, }$x"; done; printf '%s' "$out"; }

sources_cleanup() {
    rm -f "$APT_TEMP.sources" "$APT_TEMP.list"
    rm -rf "$FETCH"
}

# apt-get update with a deb-src twin of each Debian archive the machine uses (once)
deb_src_on() {
    [ -n "$APT_STATE" ] && return 0
    [ "$(id -u)" = 0 ] || die "run as root: apt-get fetches Debian's sources"
    mkdir -p "$WORK"
    : > "$APT_LOG"  # this run's messages only
    if [ -f "$APT_DIR/debian.sources" ]; then
        sed 's/^Types: deb$/Types: deb-src/' "$APT_DIR/debian.sources" > "$APT_TEMP.sources"
    else
        sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > "$APT_TEMP.list"
    fi
    local out
    out="$(apt-get update -q 2>&1)" || true
    printf '\n== %s apt-get update\n%s\n' "$(date '+%F %T')" "$out" >> "$APT_LOG"
    if grep -qE '^(E:|W: Failed to fetch)' <<<"$out"; then APT_STATE=failed; else APT_STATE=ok; fi
}

upstream_of() {  # VERSION: its upstream part (no epoch, no Debian revision)
    local v="${1#*:}"
    printf '%s\n' "${v%-*}"
}

versions_of() {  # PACKAGE: the versions the deb-src index lists, newest first
    local v w placed out=() next
    for v in $(apt-cache showsrc --only-source "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -u); do
        next=() placed=""
        for w in "${out[@]}"; do
            if [ -z "$placed" ] && dpkg --compare-versions "$v" gt "$w"; then next+=("$v"); placed=1; fi
            next+=("$w")
        done
        [ -n "$placed" ] || next+=("$v")
        out=("${next[@]}")
    done
    [ ${#out[@]} = 0 ] || printf '%s\n' "${out[@]}"
}

index_orig() {  # PACKAGE VERSION: "sha256 file" of its orig tarball, as Debian's index says
    apt-cache showsrc --only-source "$1" 2>/dev/null | awk -v want="$2" '
        /^Package:/ { v = "" }
        /^Version:/ { v = $2 }
        /^Checksums-Sha256:/ { c = 1; next }
        /^[^ ]/ { c = 0 }
        c && v == want && $3 ~ /\.orig\.tar\.[a-z0-9]+$/ { print $1, $3; exit }'
}

fetch_orig() {  # PACKAGE VERSION: download it; print the path of the orig tarball that arrived
    rm -rf "$FETCH" && mkdir -p "$FETCH"
    printf '\n== %s apt-get source --download-only %s=%s\n' "$(date '+%F %T')" "$1" "$2" >> "$APT_LOG"
    (cd "$FETCH" && apt-get source --download-only -q "$1=$2") >> "$APT_LOG" 2>&1 || true
    local f
    for f in "$FETCH"/*.orig.tar.*; do
        case $f in *.asc) continue ;; esac
        [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
    done
    return 1
}
