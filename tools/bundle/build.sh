#!/usr/bin/env bash
# make bundle: dist/xstui-<version>-linux-x86_64.tar.gz, a relocatable CPython
# with xstui and its dependencies that needs nothing newer than glibc 2.17 (the
# dom0 of XenServer 8 / XCP-ng 8.x), built here from what the package
# registries serve: Debian's CPython, zlib and OpenSSL sources (apt-get
# source), zig from PyPI (its cc links against glibc 2.17), and the
# manylinux2014 wheels of the dependencies. Run as root (apt-get).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$ROOT/build/bundle"
SRC="$WORK/src"            # downloaded sources (kept between builds)
DEPS="$WORK/deps"          # static zlib and OpenSSL
STAGE="$WORK/stage/xstui"  # the tree that becomes /opt/xstui
PY=3.11
JOBS="$(nproc)"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/xstui/__init__.py")"
OUT="$ROOT/dist/xstui-$VERSION-linux-x86_64.tar.gz"
log() { printf '%s bundle: %s\n' "$(date +%H:%M:%S)" "$*"; }

mkdir -p "$SRC" "$DEPS" "$WORK/bin" "$ROOT/dist"

# --- the toolchain: zig cc for x86_64-linux-gnu.2.17 ---------------------------------
if [ ! -x "$WORK/tools/bin/python" ]; then
    python3 -m venv "$WORK/tools"
    "$WORK/tools/bin/pip" install --quiet "ziglang==0.17.1"
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

# --- sources: Debian's (the upstream tarball comes with them) ------------------------
fetch() {  # fetch PACKAGE GLOB: the upstream tarball of a Debian source package
    if ! ls "$SRC"/$2 >/dev/null 2>&1; then
        local list=/etc/apt/sources.list.d/xstui-bundle-src.sources
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$list"
        apt-get update -qq
        (cd "$SRC" && apt-get source --download-only -qq "$1" || true)
        rm -f "$list"
    fi
    ls "$SRC"/$2 >/dev/null 2>&1 || { echo "bundle: no source tarball for $1" >&2; exit 1; }
}
fetch python3.11 'python3.11_*.orig.tar.*'
fetch zlib 'zlib_*.orig.tar.*'
fetch openssl 'openssl_*.orig.tar.*'

unpack() {  # unpack GLOB DIR
    rm -rf "$WORK/$2" && mkdir -p "$WORK/$2"
    tar -xf "$(ls "$SRC"/$1 | head -1)" -C "$WORK/$2" --strip-components=1
}

# --- zlib and OpenSSL, static, position independent -----------------------------------
if [ ! -f "$DEPS/lib/libz.a" ]; then
    log "zlib"
    unpack 'zlib_*.orig.tar.*' zlib
    (cd "$WORK/zlib" && CFLAGS="-O2 -fPIC" ./configure --static --prefix="$DEPS" >/dev/null \
        && make -s -j"$JOBS" libz.a >/dev/null && make -s install >/dev/null)
fi
if [ ! -f "$DEPS/lib/libssl.a" ]; then
    log "OpenSSL (some minutes)"
    unpack 'openssl_*.orig.tar.*' openssl
    (cd "$WORK/openssl" \
        && ./Configure linux-x86_64 no-shared no-tests no-module no-afalgeng no-docs -fPIC \
            --prefix="$DEPS" --libdir=lib --openssldir=/etc/pki/tls >/dev/null 2>&1 \
        || ./Configure linux-x86_64 no-shared no-tests no-module no-afalgeng -fPIC \
            --prefix="$DEPS" --libdir=lib --openssldir=/etc/pki/tls >/dev/null)
    (cd "$WORK/openssl" && make -s -j"$JOBS" build_libs >/dev/null 2>&1 \
        && make -s install_dev >/dev/null)
fi

# --- CPython --------------------------------------------------------------------------
if [ ! -x "$STAGE/python/bin/python$PY" ]; then
    log "CPython $PY (configure, then some minutes of make)"
    unpack 'python3.11_*.orig.tar.*' cpython
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
    cd "$ROOT"
fi
PYBIN="$STAGE/python/bin/python$PY"
"$PYBIN" -c "import ssl, zlib, json, hashlib, socket, select, pyexpat" \
    || { echo "bundle: the new python lacks a module it needs" >&2; exit 1; }

# --- xstui and its dependencies: manylinux2014 wheels -----------------------------------
log "site-packages"
SITE="$STAGE/python/lib/python$PY/site-packages"
rm -rf "$SITE" && mkdir -p "$SITE"
DEPS_LIST=$("$WORK/tools/bin/python" - "$ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
EOF
)
"$WORK/tools/bin/python" -m pip download --quiet --only-binary=:all: --python-version "$PY" \
    --implementation cp --abi "cp${PY/./}" --abi abi3 --abi none \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
    -d "$WORK/wheels" $DEPS_LIST
"$WORK/tools/bin/python" -m pip wheel --quiet --no-deps -w "$WORK/wheels" "$ROOT"
"$WORK/tools/bin/python" -m pip install --quiet --no-deps --no-compile --target "$SITE" "$WORK/wheels"/*.whl

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
"$PYBIN" -I -m compileall -q -j "$JOBS" "$LIB" >/dev/null || true
echo "$VERSION" > "$STAGE/VERSION"

log "tar"
tar -C "$WORK/stage" --owner=0 --group=0 -czf "$OUT" xstui
log "$OUT ($(du -h "$OUT" | cut -f1), unpacked $(du -sh "$STAGE" | cut -f1))"
