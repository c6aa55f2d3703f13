import pytest
from hypothesis import given
from hypothesis import strategies as st

from xstui.sim.errors import XapiError
from xstui.sim.where import compile_where

REC = {"name_label": "web", "power_state": "Running", "is_a_template": False, "VCPUs_max": 4}


@pytest.mark.parametrize(
    "expr,expected",
    [
        ('field "name_label"="web"', True),
        ('field "name__label"="web"', True),
        ('field "power_state"<>"Running"', False),
        ('field "is_a_template"="false" and field "VCPUs_max"="4"', True),
        ('field "name_label"="x" or (field "power_state"="Running")', True),
        ('not (field "name_label"="web")', False),
        ("true", True),
        ("false", False),
    ],
)
def test_expressions(expr, expected):
    assert compile_where(expr)(REC) is expected


@given(st.text(max_size=40))
def test_garbage_is_a_clean_error(text):
    try:
        compile_where(text)(REC)
    except XapiError as err:
        assert err.code == "INVALID_VALUE"
