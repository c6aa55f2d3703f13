"""``xstui sim``: prints how to connect, and refuses bad arguments in one line."""

import subprocess
import sys
import time

import XenAPI

from tests.waiting import TIMEOUT


def run(*args, timeout=TIMEOUT):
    return subprocess.run(
        [sys.executable, "-m", "xstui", *args], capture_output=True, text=True, timeout=timeout
    )


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts: [\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: x\n")
    binary = tmp_path / "binary.bin"
    binary.write_bytes(bytes(range(256)))
    no_pool = tmp_path / "nopool.xml"
    no_pool.write_text("<database><manifest/></database>")
    for args in (
        ["sim", "--scenario", "nope"],
        ["sim", "--port", "70000"],
        ["sim", "--bogus"],
        ["sim", "--scenario", str(bad)],
        ["sim", "--scenario", str(empty)],
        ["sim", "--dump", str(tmp_path / "missing.xml")],
        ["sim", "--latency", "-5"],
        ["sim", "--scenario", "generate:abc"],
        ["sim", "--scenario", "generate:0,0"],
        ["sim", "--dump", str(binary)],
        ["sim", "--scenario", str(binary)],
        ["sim", "--dump", str(no_pool)],
    ):
        out = run(*args)
        assert out.returncode == 2, args
        assert len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_sim_serves_until_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "sim", "--password", "s3cret", "--latency", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].strip().startswith("login"):
            lines.append(proc.stdout.readline())
            assert len(lines) < 20, lines
        url = next(line.split()[1] for line in lines if line.strip().startswith("master"))
        assert any("root / s3cret" in line for line in lines)
        session = XenAPI.Session(url)
        started = time.monotonic()
        session.xenapi.login_with_password("root", "s3cret")
        assert time.monotonic() - started >= 0.005
        assert len(session.xenapi.host.get_all()) == 3
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("xstui ")


def test_a_bad_scenario_names_the_file_line_and_key(tmp_path):
    cases = {
        "unknown key": (
            "hosts:\n  - {name: a, address: 127.10.0.11}\ncolour: red\n",
            "line 3, colour",
        ),
        "wrong type": (
            "hosts:\n  - {name: a, address: 127.10.0.11, nics: two}\n",
            "line 2, hosts[0].nics",
        ),
        "dangling": (
            "hosts:\n  - {name: a, address: 127.10.0.11}\nnetworks:\n  - {name: v, vlan: 5, over: nowhere}\n",
            "line 4, networks[0].over: no network called 'nowhere'",
        ),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(text)
        out = run("sim", "--scenario", str(path))
        assert out.returncode == 2, name
        assert str(path) in out.stderr and expected in out.stderr, (name, out.stderr)
        assert "Traceback" not in out.stderr
