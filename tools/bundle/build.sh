#!/usr/bin/env bash
# make bundle: dist/xstui-<version>-linux-x86_64.tar.gz, a relocatable CPython
# with xstui and its dependencies that needs nothing newer than glibc 2.17 (the
# dom0 of XenServer 8 / XCP-ng 8.x), built here from what the package
# registries serve: Debian's CPython, zlib and OpenSSL sources (apt-get
# source), zig from PyPI (its cc links against glibc 2.17), and the
# manylinux2014 wheels of the dependencies. Run as root (apt-get).
# What it is built from is locked, with hashes, in tools/bundle/*.lock
# (make bundle-lock rewrites them): the same lock gives the same tarball.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$ROOT/build/bundle"
SRC="$WORK/src"            # downloaded sources (kept between builds, checked each time)
DEPS="$WORK/deps"          # static zlib and OpenSSL
STAGE="$WORK/stage/xstui"  # the tree that becomes /opt/xstui
NAME=bundle
PY=3.11
JOBS="$(nproc)"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/xstui/__init__.py")"
OUT="$ROOT/dist/xstui-$VERSION-linux-x86_64.tar.gz"
PART="$ROOT/dist/.${OUT##*/}.part"  # the tarball until it is whole
# shellcheck source=tools/bundle/lib.sh
. "$ROOT/tools/bundle/lib.sh"
LOCK="$HERE/sources.lock"
cleanup() { sources_cleanup; rm -f "$PART"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for f in sources tools wheels; do
    [ -f "$HERE/$f.lock" ] || die "$(rel "$HERE/$f.lock") is missing: make bundle-lock writes it"
done
SOURCE_DATE_EPOCH="$(sed -n 's/^SOURCE_DATE_EPOCH \([0-9]*\)$/\1/p' "$LOCK")"
[ -n "$SOURCE_DATE_EPOCH" ] || die "$(rel "$LOCK") has no SOURCE_DATE_EPOCH line: make bundle-lock"
export SOURCE_DATE_EPOCH
mkdir -p "$SRC" "$DEPS" "$WORK/bin"
: > "$WORK/pip.log"  # this run's messages only

# --- the toolchain: zig cc for x86_64-linux-gnu.2.17 ---------------------------------
# pip's messages go to a log; a failure is one line (a hash mismatch names the package)
pip_quiet() {  # WHAT COMMAND...
    local what=$1 out bad
    shift
    if out="$("$@" 2>&1)"; then printf '%s\n' "$out" >> "$WORK/pip.log"; return 0; fi
    printf '\n== %s %s\n%s\n' "$(date '+%F %T')" "$what" "$out" >> "$WORK/pip.log"
    bad="$(sed -n 's/^    \([^ ]*==[^ ]*\) from .*/\1/p' <<<"$out" | paste -sd' ')"
    if grep -q 'DO NOT MATCH THE HASHES' <<<"$out"; then
        die "$what: the sha256 of ${bad:-a download} does not match the lock; pip's messages: $(rel "$WORK/pip.log")"
    fi
    die "$what failed: $(grep -m1 '^ERROR' <<<"$out" || tail -1 <<<"$out"); pip's messages: $(rel "$WORK/pip.log")"
}
TOOLS_ID="$(sha256_of "$HERE/tools.lock")"
if [ "$(cat "$WORK/tools/.lock" 2>/dev/null)" != "$TOOLS_ID" ]; then
    log "zig ($(grep -m1 '^ziglang' "$HERE/tools.lock" | cut -d' ' -f1), tools.lock)"
    rm -rf "$WORK/tools"
    python3 -m venv "$WORK/tools"
    pip_quiet "zig (tools.lock)" "$WORK/tools/bin/python" -m pip install --quiet \
        --require-hashes --no-deps -r "$HERE/tools.lock"
    echo "$TOOLS_ID" > "$WORK/tools/.lock"
fi
ZIG_FLAGS="-target x86_64-linux-gnu.2.17 -fno-sanitize=undefined -Wno-error=date-time"
for tool in cc c++ ar ranlib; do
    case $tool in
        cc|c++) line="exec \"$WORK/tools/bin/python\" -m ziglang $tool $ZIG_FLAGS \"\$@\"" ;;
        *) line="exec \"$WORK/tools/bin/python\" -m ziglang $tool \"\$@\"" ;;
    esac
    printf '#!/bin/sh\n%s\n' "$line" > "$WORK/bin/zig-$tool"
    chmod +x "$WORK/bin/zig-$tool"
done
export CC="$WORK/bin/zig-cc" CXX="$WORK/bin/zig-c++" AR="$WORK/bin/zig-ar" RANLIB="$WORK/bin/zig-ranlib"

# --- sources: the upstream tarballs of Debian's packages, as sources.lock has them ----
same_upstream() {  # PACKAGE VERSION: the other versions the index lists of its upstream release
    local w up
    up="$(upstream_of "$2")"
    for w in $(versions_of "$1"); do
        [ "$w" != "$2" ] && [ "$(upstream_of "$w")" = "$up" ] && printf '%s\n' "$w"
    done
    return 0
}
get_source() {  # PACKAGE: $SRC/<its orig tarball>, cached or fetched, its sha256 the lock's
    local pkg=$1 version file sha got v path tried=() why
    read -r version file sha <<<"$(awk -v p="$pkg" '$1 == p { print $2, $3, $4; exit }' "$LOCK")"
    [ -n "$sha" ] || die "$pkg is not in $(rel "$LOCK"): make bundle-lock"
    if [ -f "$SRC/$file" ]; then
        got="$(sha256_of "$SRC/$file")"
        [ "$got" = "$sha" ] || die "$pkg $version: the cached $(rel "$SRC/$file") has sha256 $got, sources.lock says $sha: a damaged file (delete it to fetch it again) or a wrong lock (make bundle-lock)"
        log "$pkg $version: $file (cached, sha256 verified)"
        return 0
    fi
    deb_src_on
    for v in "$version" $(same_upstream "$pkg" "$version"); do
        if path="$(fetch_orig "$pkg" "$v")"; then
            got="$(sha256_of "$path")"
            if [ "$got" = "$sha" ]; then
                mv -f "$path" "$SRC/$file"
                if [ "$v" = "$version" ]; then
                    log "$pkg $version: $file fetched, sha256 verified"
                else
                    log "$pkg: fell back from $version to $v ($(join_list "${tried[@]}")): $file, sha256 verified"
                fi
                return 0
            fi
            tried+=("$v (its sha256 is $got)")
        else
            tried+=("$v (not served)")
        fi
    done
    why=""
    [ "$APT_STATE" = failed ] && why="; apt-get update could not fetch (no network?)"
    die "$pkg: no source tarball with sources.lock's sha256 $sha: tried $(join_list "${tried[@]}")$why; apt's messages: $(rel "$APT_LOG")"
}
get_source python3.11
get_source zlib
get_source openssl
sources_cleanup  # the deb-src entry goes as soon as it is not needed

lock_of() { awk -v p="$1" '$1 == p { print $3, $4; exit }' "$LOCK"; }  # PACKAGE: "file sha256"
unpack() {  # PACKAGE DIR
    local file
    file="$(lock_of "$1" | cut -d' ' -f1)"
    rm -rf "$WORK/$2" && mkdir -p "$WORK/$2"
    tar -xf "$SRC/$file" -C "$WORK/$2" --strip-components=1
}
# what each build step was made from: a step whose stamp differs is done again
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
ZLIB_ID="$TOOLS_ID $(lock_of zlib)"
OPENSSL_ID="$TOOLS_ID $(lock_of openssl)"
PYTHON_ID="$TOOLS_ID $(lock_of python3.11) $(lock_of zlib) $(lock_of openssl)"

# --- zlib and OpenSSL, static, position independent -----------------------------------
if ! { [ -f "$DEPS/lib/libz.a" ] && stamp_ok "$DEPS/zlib.lock" "$ZLIB_ID"; }; then
    log "zlib"
    unpack zlib zlib
    (cd "$WORK/zlib" && CFLAGS="-O2 -fPIC" ./configure --static --prefix="$DEPS" >/dev/null \
        && make -s -j"$JOBS" libz.a >/dev/null && make -s install >/dev/null)
    echo "$ZLIB_ID" > "$DEPS/zlib.lock"
fi
if ! { [ -f "$DEPS/lib/libssl.a" ] && stamp_ok "$DEPS/openssl.lock" "$OPENSSL_ID"; }; then
    log "OpenSSL (some minutes)"
    unpack openssl openssl
    (cd "$WORK/openssl" \
        && ./Configure linux-x86_64 no-shared no-tests no-module no-afalgeng no-docs -fPIC \
            --prefix="$DEPS" --libdir=lib --openssldir=/etc/pki/tls >/dev/null 2>&1 \
        || ./Configure linux-x86_64 no-shared no-tests no-module no-afalgeng -fPIC \
            --prefix="$DEPS" --libdir=lib --openssldir=/etc/pki/tls >/dev/null)
    (cd "$WORK/openssl" && make -s -j"$JOBS" build_libs >/dev/null 2>&1 \
        && make -s install_dev >/dev/null)
    echo "$OPENSSL_ID" > "$DEPS/openssl.lock"
fi

# --- CPython --------------------------------------------------------------------------
if ! { [ -x "$STAGE/python/bin/python$PY" ] && stamp_ok "$WORK/cpython.lock" "$PYTHON_ID"; }; then
    log "CPython $PY (configure, then some minutes of make)"
    rm -f "$WORK/cpython.lock"
    unpack python3.11 cpython
    cd "$WORK/cpython"
    # setup.py adds the build machine's multiarch and /usr/local include paths,
    # whose headers clash with zig's glibc 2.17 ones: the modules see only ours
    sed -i -e "s|add_dir_to_list(self.compiler.include_dirs, '/usr/local/include')|pass|" \
        -e "s|add_dir_to_list(self.compiler.library_dirs, '/usr/local/lib')|pass|" \
        -e 's|^\(\s*\)self.add_multiarch_paths()|\1pass|' setup.py
    # modules the console does not need, and whose libraries dom0 may lack
    # (libcrypt, ncurses, libffi...): not built, so nothing can link to them
    off=""
    for m in _curses _curses_panel _dbm _gdbm _tkinter readline nis _sqlite3 _bz2 _lzma \
             _ctypes _ctypes_test _uuid _crypt _testcapi _testbuffer _testinternalcapi \
             _testimportmultiple _testmultiphase _xxtestfuzz xxlimited xxlimited_35; do
        off="$off py_cv_module_$m=n/a"
    done
    env $off CPPFLAGS="-I$DEPS/include" LDFLAGS="-L$DEPS/lib" \
        PKG_CONFIG_LIBDIR="$DEPS/lib/pkgconfig" \
        ./configure --prefix=/opt/xstui/python --disable-shared --with-openssl="$DEPS" \
        --without-readline --without-ensurepip >/dev/null
    make -s -j"$JOBS" >"$WORK/cpython-make.log" 2>&1 || { tail -40 "$WORK/cpython-make.log"; exit 1; }
    rm -rf "$WORK/stage"
    make -s install DESTDIR="$WORK/stage-install" >/dev/null 2>&1
    mkdir -p "$STAGE"
    mv "$WORK/stage-install/opt/xstui/python" "$STAGE/python"
    rm -rf "$WORK/stage-install"
    echo "$PYTHON_ID" > "$WORK/cpython.lock"
    cd "$ROOT"
fi
PYBIN="$STAGE/python/bin/python$PY"
"$PYBIN" -c "import ssl, zlib, json, hashlib, socket, select, pyexpat" \
    || die "the new python lacks a module it needs"

# --- xstui and its dependencies: manylinux2014 wheels -----------------------------------
SITE="$STAGE/python/lib/python$PY/site-packages"
rm -rf "$SITE" && mkdir -p "$SITE"
# the lock must be of pyproject.toml's dependencies: a new one would be missing
"$WORK/tools/bin/python" - "$ROOT/pyproject.toml" "$HERE/wheels.lock" <<'EOF' || exit 1
import json, sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
locked = next((json.loads(line.split(":", 1)[1]) for line in open(sys.argv[2])
               if line.startswith("# dependencies:")), None)
if locked != deps:
    sys.exit(f"bundle: tools/bundle/wheels.lock is for the dependencies {locked}, pyproject.toml "
             f"has {deps}: make bundle-lock")
EOF
rm -rf "$WORK/wheels"
pip_quiet "wheels (wheels.lock)" "$WORK/tools/bin/python" -m pip download --quiet --no-deps \
    --require-hashes --only-binary=:all: --python-version "$PY" \
    --implementation cp --abi "cp${PY/./}" --abi abi3 --abi none \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
    -d "$WORK/wheels" -r "$HERE/wheels.lock"
log "site-packages: $(ls "$WORK/wheels" | wc -l) wheels verified (wheels.lock), and xstui's"
pip_quiet "xstui's wheel" "$WORK/tools/bin/python" -m pip wheel --quiet --no-deps -w "$WORK/wheels" "$ROOT"
pip_quiet "site-packages" "$WORK/tools/bin/python" -m pip install --quiet --no-deps --no-compile \
    --target "$SITE" "$WORK/wheels"/*.whl

# --- the launcher, console takeover, and what dom0 does not need -------------------------
mkdir -p "$STAGE/bin" "$STAGE/share"
install -m 0755 "$ROOT/tools/bundle/xstui" "$STAGE/bin/xstui"
install -m 0755 "$ROOT/tools/bundle/xstui-tty1" "$STAGE/bin/xstui-tty1"
LIB="$STAGE/python/lib/python$PY"
rm -rf "$LIB"/{test,idlelib,tkinter,turtledemo,lib2to3,ensurepip,pydoc_data,unittest/test} \
    "$LIB"/config-"$PY"-* "$STAGE/python/lib/pkgconfig" "$STAGE/python/share" \
    "$STAGE/python/include" "$STAGE/python/bin"/{2to3*,idle*,pydoc*,python*-config}
find "$STAGE" -name '__pycache__' -prune -exec rm -rf {} +
find "$STAGE" -type f \( -name '*.so' -o -name "python$PY" \) -exec strip --strip-unneeded {} + 2>/dev/null || true
echo "$VERSION" > "$STAGE/VERSION"
# reproducible: every file gets the lock's time before the .pyc files record their
# sources' times; a fixed hash seed orders the sets marshalled into them
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$WORK" && env -u PYTHONPATH -u PYTHONHOME -u PYTHONSTARTUP PYTHONHASHSEED=0 "$PYBIN" -s -m compileall \
    -q -j "$JOBS" --invalidation-mode timestamp "$LIB" >/dev/null) || true

log "tar"
mkdir -p "$ROOT/dist"
tar -C "$WORK/stage" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -cf - xstui | gzip -n > "$PART"
mv -f "$PART" "$OUT"
log "$(rel "$OUT") ($(du -h "$OUT" | cut -f1), unpacked $(du -sh "$STAGE" | cut -f1)), sha256 $(sha256_of "$OUT")"
