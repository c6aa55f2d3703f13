"""ASCII only where the locale is not UTF-8: each character keeps its cells,
escape sequences pass untouched."""

import pytest
from rich.cells import cell_len

from xstui.widgets.ascii import ascii_terminal, monochrome, to_ascii


@pytest.mark.parametrize(
    "env,ascii_only",
    [
        ({}, True),  # no locale: C
        ({"LANG": "C"}, True),
        ({"LANG": "en_US.UTF-8"}, False),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, True),  # LC_ALL wins
        ({"LC_CTYPE": "de_DE.utf8", "LANG": "C"}, False),
        ({"LANG": "en_US.ISO-8859-1"}, True),
        ({"LANG": "en_US.UTF-8", "TERM": "vt220"}, True),  # a DEC terminal draws no Unicode
        ({"LANG": "en_US.UTF-8", "TERM": "vt100"}, True),
        ({"LANG": "en_US.UTF-8", "TERM": "linux"}, False),  # PC glyphs: see widgets.console
        ({"LANG": "en_US.UTF-8", "TERM": "xterm-256color"}, False),
    ],
)
def test_the_locale_decides(env, ascii_only):
    assert ascii_terminal(env) is ascii_only


@pytest.mark.parametrize(
    "env,mono",
    [
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "linux"}, False),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, True),
        ({"TERM": "vt220"}, True),
        ({"TERM": "dumb"}, True),
    ],
)
def test_monochrome_terminals(env, mono):
    assert monochrome(env) is mono


@pytest.mark.parametrize(
    "text,expected",
    [
        ("┌─ Host ─┐", "+- Host -+"),
        ("│ ████░░ │", "| ####.. |"),
        ("Demo Pool » xcp-a │ • connected", "Demo Pool > xcp-a | * connected"),
        ("café", "cafe"),
        ("e\u0301", "e"),  # a combining accent takes no cell
        ("日本", "????"),  # wide: two cells each
        ("\x1b[1;97mbold\x1b[0m", "\x1b[1;97mbold\x1b[0m"),
        ("🙂 ok", "?? ok"),
    ],
)
def test_each_character_keeps_its_cells(text, expected):
    out = to_ascii(text)
    assert out == expected and out.isascii()
    assert cell_len(out) == cell_len(text)


def test_lang_c_is_seen_through_pythons_locale_coercion():
    """Python sets LC_CTYPE=C.UTF-8 in its own environment under LANG=C
    (PEP 538): the console reads the locale it was started with."""
    import subprocess
    import sys

    env = {"LANG": "C", "PATH": "/usr/bin:/bin"}
    code = "from xstui.widgets.ascii import ascii_terminal; print(ascii_terminal())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr
