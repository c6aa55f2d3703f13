"""get_all_records_where's language, token for token as XAPI's lexer and
parser read it (xen-api ocaml/database/db_filter_lex.mll: no identifier
token, lowercase words, strings without escapes; db_filter_parse.mly:
%right LNOT below %left LAND LOR)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xstui.sim.errors import XapiError
from xstui.sim.where import LEXING_ERROR, PARSE_ERROR, compile_where

ROW = {
    "name__label": "web",
    "power_state": "Running",
    "is_a_template": "false",
    "VCPUs__max": "4",
    "other_config": "(('folder' '/prod'))",
}


def matches(expr: str, row=ROW) -> bool:
    def get(column):
        if column not in row:
            raise XapiError("INTERNAL_ERROR", "missing field", column, "")
        return row[column]

    return compile_where(expr)(get)


@pytest.mark.parametrize(
    "expr,expected",
    [
        ('field "name__label"="web"', True),
        ('field "is_a_template"="false" and field "VCPUs__max"="4"', True),
        ('field "name__label"="x" or (field "power_state"="Running")', True),
        ('not (field "name__label"="web")', False),
        ('"a"="a"', True),
        ('"a" = "b"', False),
        ("true", True),
        ("false", False),
        ("\ttrue\n", True),
        # no identifier token: the longest word wins, so these run together
        ('field "power_state"="Running"andfield "name__label"="web"', True),
        ("trueandfalse", False),
        ("notfalse", True),
        # and/or bind alike, from the left: (true or false) and false
        ("true or false and false", False),
        # "not" takes all that follows: not (false and true), not (true or false)
        ("not false and true", True),
        ("true and not true or true", False),
        ("(not false) and false", False),
        # a string is what lies between two double quotes, backslashes included
        ("field \"other_config\"=\"(('folder' '/prod'))\"", True),
        ('"a\\"="a\\"', True),
        # values compare as the stored strings
        ('field "VCPUs__max"="04"', False),
    ],
)
def test_expressions(expr, expected):
    assert matches(expr) is expected


@pytest.mark.parametrize(
    "expr,why",
    [
        ('field "power_state"<>"Running"', LEXING_ERROR),  # no "<>" in XAPI's lexer
        ("TRUE", LEXING_ERROR),  # words are lowercase
        ('field "a"="b" AND true', LEXING_ERROR),
        ("name_label", LEXING_ERROR),
        ('"unterminated', LEXING_ERROR),
        ('field "a"="b\\"c"', LEXING_ERROR),  # \" is no escape: the string ends, c is unknown
        ("", PARSE_ERROR),
        ('field "power_state"=', PARSE_ERROR),
        ('field "a"', PARSE_ERROR),
        ('"a"', PARSE_ERROR),
        ('true="true"', PARSE_ERROR),  # true is an expression, not a value
        ("(true", PARSE_ERROR),
        ("true)", PARSE_ERROR),
        ("true true", PARSE_ERROR),
        ("not", PARSE_ERROR),
        ('field field "a"="b"', PARSE_ERROR),
    ],
)
def test_what_xapi_refuses(expr, why):
    with pytest.raises(XapiError) as err:
        compile_where(expr)
    assert err.value.description == ["INVALID_VALUE", expr, why]


def test_a_missing_column_fails_only_where_it_is_read():
    with pytest.raises(XapiError) as err:
        matches('field "nope"="x"')
    assert err.value.description == ["INTERNAL_ERROR", "missing field", "nope", ""]
    assert matches('true or field "nope"="x"') is True  # never read


@given(st.text(max_size=40))
def test_garbage_is_a_clean_error(text):
    try:
        matches(text)
    except XapiError as err:
        assert err.code in ("INVALID_VALUE", "INTERNAL_ERROR")
