"""The project's error catalogue names parameters as XAPI's error table does."""

import json

from tests.conftest import shared_path
from xstui.xapi.errors import CATALOGUE, describe


def test_codes_and_parameter_names_match_upstream():
    table = json.loads(shared_path("xapi", "xapi_errors.json").read_text())
    upstream, undocumented = table["errors"], table["codes_without_datamodel_doc"]
    for code, (params, meaning, _remedy) in CATALOGUE.items():
        assert code in upstream or code in undocumented, code
        if code in upstream:  # the others have no parameter names upstream
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


def test_storage_failures_use_the_storage_managers_numbers():
    """Every SR_BACKEND_FAILURE_<n> the simulator raises is in
    XE_SR_ERRORCODES.xml with the same text, and reaches the admin in words."""
    import ast
    import xml.etree.ElementTree as ET
    from pathlib import Path

    from tests.conftest import shared_path
    from xstui.xapi.errors import describe

    codes = {
        int(c.findtext("value")): " ".join(c.findtext("description").split())
        for c in ET.parse(shared_path("xapi", "XE_SR_ERRORCODES.xml")).getroot().iter("code")
    }
    sim = Path(__file__).resolve().parents[2] / "xstui" / "sim"
    raised = []
    for path in sim.rglob("*.py"):  # the AST joins a text split over lines
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "backend_failure"
                and all(isinstance(a, ast.Constant) for a in node.args[:2])
            ):
                raised.append((node.args[0].value, node.args[1].value))
    assert raised
    for number, text in raised:
        assert codes.get(int(number)) == text, (number, text)
        words = str(describe([f"SR_BACKEND_FAILURE_{number}", "", text, ""]))
        assert text in words and "storage manager" in words
        assert ".." not in words  # the manager's own full stop, not a second one
