"""The dom0 bundle (``make bundle``): what ``dist/xstui-*-linux-x86_64.tar.gz``
needs of the machine it runs on, and that it runs with nothing else.

- ELF audit (auditwheel's rule): no executable or shared object needs a glibc
  symbol newer than 2.17, and each one's DT_NEEDED libraries are in the
  manylinux2014 set or inside the bundle. The offending file and symbols are
  named.
- Hermetic run: the bundle in a fresh root holding only it, the C library's
  loader, the allowed libraries and /bin/sh (the launcher is a shell script,
  as dom0 has one), entered with chroot in a private mount namespace (its own
  /proc); a simulator's unix socket at /var/lib/xcp/xapi inside it.
  ``xstui --version``, ``xstui status local --json`` and the TUI in tmux.
- Relocation: the same tarball unpacked at two paths works from both.

Skipped where no bundle was built (CI builds it: see .ci/run), or without root.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
}
GLIBC_MAX = (2, 17)
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def bundle() -> Path:
    found = sorted(ROOT.glob("dist/xstui-*-linux-x86_64.tar.gz"))
    if not found:
        pytest.skip("no bundle in dist/ (make bundle builds it)")
    return found[-1]


def unpack(tarball: Path, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(where, filter="tar")
    return where / "xstui"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    return unpack(bundle(), tmp_path_factory.mktemp("bundle"))


def elf_files(top: Path) -> list[Path]:
    out = []
    for path in top.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def readelf(*args: str) -> str:
    return subprocess.run(
        ["readelf", "-W", *args], capture_output=True, text=True, check=True
    ).stdout


def glibc_version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_elf_audit(unpacked):
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    files = elf_files(unpacked)
    assert len(files) > 10, "the bundle has its python and extension modules"
    inside = {p.name for p in files}
    problems = []
    for path in files:
        rel = path.relative_to(unpacked)
        needs = readelf("-V", str(path))
        versions = {glibc_version(v) for v in re.findall(r"Name: GLIBC_([\d.]+)", needs)}
        if versions and max(versions) > GLIBC_MAX:
            syms = readelf("--dyn-syms", str(path))
            newer = sorted(
                {
                    f"{name}@GLIBC_{v}"
                    for name, v in re.findall(r"\s(\w+)@GLIBC_([\d.]+)", syms)
                    if glibc_version(v) > GLIBC_MAX
                }
            )
            problems.append(f"{rel}: needs {', '.join(newer) or max(versions)}")
        for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf("-d", str(path))):
            if lib not in ALLOWED and lib not in inside:
                problems.append(f"{rel}: needs {lib}, neither manylinux2014 nor in the bundle")
        if "RPATH" in readelf("-d", str(path)) or "RUNPATH" in readelf("-d", str(path)):
            problems.append(f"{rel}: has an RPATH/RUNPATH")
    assert not problems, "\n".join(problems)


def test_relocation(tmp_path):
    tarball = bundle()
    for where in (tmp_path / "a", tmp_path / "deep" / "er" / "b"):
        top = unpack(tarball, where)
        out = subprocess.run(
            [str(top / "bin" / "xstui"), "--version"], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0 and out.stdout.startswith("xstui "), out.stderr
        paths = subprocess.run(
            [
                str(top / "python" / "bin" / "python3.11"),
                "-I",
                "-c",
                "import sys, ssl, zlib, textual, XenAPI, psutil, yaml, cryptography; "
                "print(sys.prefix); print('\\n'.join(p for p in sys.path if p))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert paths.returncode == 0, paths.stderr
        prefix, *entries = paths.stdout.split()
        assert Path(prefix) == top / "python"
        assert all(Path(p).is_relative_to(top) for p in entries), entries


def _lib(name: str) -> Path:
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib"):
        path = Path(folder) / name
        if path.exists():
            return path.resolve()
    raise FileNotFoundError(name)


def make_root(top: Path, tarball: Path) -> Path:
    """A root with only the bundle, the loader, the allowed libraries and /bin/sh."""
    unpack(tarball, top / "opt")
    libs = top / "lib" / "x86_64-linux-gnu"
    libs.mkdir(parents=True)
    (top / "lib64").mkdir()
    for name in ALLOWED:
        try:
            shutil.copy2(_lib(name), libs / name)
        except FileNotFoundError:
            continue
    shutil.copy2(_lib("ld-linux-x86-64.so.2"), top / "lib64" / "ld-linux-x86-64.so.2")
    (top / "bin").mkdir()
    shutil.copy2(Path("/bin/sh").resolve(), top / "bin" / "sh")
    for d in ("tmp", "proc", "dev", "var/lib/xcp", "root"):
        (top / d).mkdir(parents=True, exist_ok=True)
    (top / "tmp").chmod(0o1777)
    for name, minor in (("null", 3), ("zero", 5), ("urandom", 9)):
        os.mknod(top / "dev" / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return top


def in_root(top: Path, command: str) -> list[str]:
    """argv that runs ``command`` (sh) chrooted in ``top``, with its own /proc."""
    env = "env -i HOME=/root PATH=/bin TERM=linux LANG=C.UTF-8"
    return [
        "unshare",
        "-m",
        "sh",
        "-c",
        f"mount -t proc proc '{top}/proc' && exec {env} {CHROOT} '{top}' /bin/sh -c '{command}'",
    ]


@pytest.fixture
def hermetic(tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the hermetic run needs root (chroot, a mount namespace)")
    from xstui.sim.runner import start_simulator

    top = make_root(tmp_path / "root", bundle())
    running = start_simulator("demo", unix_socket=str(top / "var/lib/xcp/xapi"))
    yield top
    running.close()


def test_hermetic_run(hermetic):
    top = hermetic
    version = subprocess.run(
        in_root(top, "/opt/xstui/bin/xstui --version"), capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("xstui "), version.stderr
    status = subprocess.run(
        in_root(top, "/opt/xstui/bin/xstui status local --json"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    model = json.loads(status.stdout)
    assert "Demo Pool" in json.dumps(model)


def test_hermetic_tui(hermetic):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    top = hermetic
    session = f"xstui-bundle-{os.getpid()}"
    started = time.monotonic()
    subprocess.run(
        ["tmux", "new", "-d", "-s", session, "-x", "80", "-y", "24"]
        + [shlex.join(in_root(top, "/opt/xstui/bin/xstui local"))],
        check=True,
    )
    try:

        def status_frame() -> str:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            return screen if "Demo Pool" in screen and "Host" in screen else ""

        wait_for(status_frame, what="the first Status frame in tmux")
        first_frame = time.monotonic() - started
        print(f"\ncold start to the first Status frame in the chroot: {first_frame:.2f} s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def rpm_file() -> Path:
    found = sorted(ROOT.glob("dist/xstui-*-1.x86_64.rpm"))
    if not found or shutil.which("rpm") is None:
        pytest.skip("no RPM in dist/ (make rpm builds it)")
    return found[-1]


def test_rpm_installs_runs_and_leaves_nothing(tmp_path):
    """What `yum install ./xstui-….rpm` does in dom0 (rpm, into a fresh root
    with only /bin/sh and the C library, the scriptlets' needs), then the
    command on the PATH, then the uninstall: nothing of it is left."""
    if os.geteuid() != 0:
        pytest.skip("installing an RPM into a root needs root")
    package = rpm_file()
    top = tmp_path / "root"
    libs = top / "lib" / "x86_64-linux-gnu"
    libs.mkdir(parents=True)
    (top / "lib64").mkdir()
    (top / "bin").mkdir()
    shutil.copy2(_lib("libc.so.6"), libs / "libc.so.6")
    shutil.copy2(_lib("ld-linux-x86-64.so.2"), top / "lib64" / "ld-linux-x86-64.so.2")
    shutil.copy2(Path("/bin/sh").resolve(), top / "bin" / "sh")
    for folder in ("opt", "usr/bin"):  # there on every system (the filesystem package's)
        (top / folder).mkdir(parents=True)
    before = {p.relative_to(top) for p in top.rglob("*")}
    rpm = ["rpm", "--root", str(top), "--dbpath", "/var/lib/rpm"]
    subprocess.run([*rpm, "--initdb"], check=True)
    subprocess.run([*rpm, "-i", "--nodeps", str(package)], check=True, capture_output=True)
    assert (top / "opt/xstui/bin/xstui").exists() and (top / "usr/bin/xstui").exists()
    out = subprocess.run(
        [str(top / "opt/xstui/bin/xstui"), "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("xstui "), out.stderr
    subprocess.run([*rpm, "-e", "xstui"], check=True, capture_output=True)
    after = {p.relative_to(top) for p in top.rglob("*")}
    left = sorted(str(p) for p in after - before if not str(p).startswith("var"))  # rpm's db
    assert not left, left
    assert not (top / "opt/xstui").exists() and not (top / "usr/bin/xstui").exists()
