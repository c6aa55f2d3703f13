"""The project's error catalogue names parameters as XAPI's error table does."""

import json

from tests.conftest import shared_path
from xstui.xapi.errors import CATALOGUE, describe


def test_codes_and_parameter_names_match_upstream():
    upstream = json.loads(shared_path("xapi", "xapi_errors.json").read_text())["errors"]
    for code, (params, meaning, _remedy) in CATALOGUE.items():
        assert code in upstream, code
        assert list(params) == upstream[code]["params"], code
        assert meaning


def test_describe_names_parameters_and_handles_unknown_codes():
    text = str(describe(["VM_BAD_POWER_STATE", "OpaqueRef:1", "running", "halted"]))
    assert "expected: running" in text and "actual: halted" in text
    assert "host refused" in str(describe(["SOME_NEW_CODE", "x"]))
    assert describe([]).code == "UNKNOWN"


def test_every_code_the_simulator_raises_is_in_words():
    """What the areas meet reaches the screen as a sentence, not XAPI's raw code."""
    import re
    from pathlib import Path

    from xstui.xapi.errors import CATALOGUE

    sim = Path(__file__).resolve().parents[2] / "xstui" / "sim"
    raised = set()
    for path in sim.rglob("*.py"):
        raised |= set(re.findall(r'XapiError\(\s*"([A-Z_]+)"', path.read_text()))
    assert raised and not sorted(raised - set(CATALOGUE))
