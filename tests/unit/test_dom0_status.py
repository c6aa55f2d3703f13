"""What status shows of dom0 comes through LocalSystem: under the demo's
dom0 (``xstui demo --dom0``), the simulated dom0's disks, load and SSH key,
never this machine's."""

import base64
import hashlib
import json

from xstui.cli import build_parser
from xstui.demo import dom0_rehearsal
from xstui.services.status.cli import run_status
from xstui.sim.dom0 import LOG_FS, ROOT_FS, SSH_KEY


def test_status_in_the_rehearsed_dom0_shows_the_simulated_one(capsys):
    args = build_parser().parse_args(["status", "local", "--json"])  # as typed: every option
    with dom0_rehearsal():
        assert run_status(args) == 0
    dom0 = json.loads(capsys.readouterr().out)["dom0"]
    assert (dom0["root_total"], dom0["root_used"]) == (ROOT_FS[0], ROOT_FS[1])
    assert (dom0["var_log_fs_total"], dom0["var_log_fs_used"]) == (LOG_FS[0], LOG_FS[1])
    assert dom0["load"] == [0.42, 0.37, 0.30]
    digest = hashlib.sha256(base64.b64decode(SSH_KEY.split()[1])).digest()
    expected = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    assert dom0["ssh_fingerprints"] == {"ssh-ed25519": expected}
    assert 200_000 < dom0["var_log_bytes"] < 1_000_000  # the fake dom0's few logs
