"""The expression language of ``get_all_records_where`` (XAPI's Db_filter).

    expr := "true" | "false" | "not" expr | expr "and" expr | expr "or" expr
          | "(" expr ")" | value ("=" | "<>") value
    value := 'field "name"' | '"literal"'

Field names may use the database's ``__`` namespace separator (``name__label``).
Values compare as the strings the database stores.
"""

from __future__ import annotations

import re

from .errors import XapiError

_TOKEN = re.compile(r'\s*(?:(\()|(\))|(<>|=)|"((?:[^"\\]|\\.)*)"|([A-Za-z_]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise XapiError("INVALID_VALUE", "expression", text)
        pos = m.end()
        lp, rp, op, lit, word = m.groups()
        if lp:
            out.append(("(", lp))
        elif rp:
            out.append((")", rp))
        elif op:
            out.append(("op", op))
        elif lit is not None:
            out.append(("lit", lit.replace('\\"', '"').replace("\\\\", "\\")))
        else:
            out.append(("word", word.lower()))
    return out


def db_string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def compile_where(text: str):
    """A predicate over records; raises XapiError on a malformed expression."""
    toks = _tokens(text)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take(kind=None, value=None):
        nonlocal pos
        tok = peek()
        if tok[0] is None or (kind and tok[0] != kind) or (value and tok[1] != value):
            raise XapiError("INVALID_VALUE", "expression", text)
        pos += 1
        return tok

    def value():
        kind, v = peek()
        if kind == "word" and v == "field":
            take()
            name = take("lit")[1].replace("__", "_")
            return lambda rec: db_string(rec.get(name, ""))
        lit = take("lit")[1]
        return lambda rec: lit

    def atom():
        kind, v = peek()
        if kind == "(":
            take()
            e = disj()
            take(")")
            return e
        if kind == "word" and v in ("true", "false"):
            take()
            return (lambda rec: True) if v == "true" else (lambda rec: False)
        if kind == "word" and v == "not":
            take()
            inner = atom()
            return lambda rec: not inner(rec)
        left = value()
        op = take("op")[1]
        right = value()
        if op == "=":
            return lambda rec: left(rec) == right(rec)
        return lambda rec: left(rec) != right(rec)

    def conj():
        e = atom()
        while peek() == ("word", "and"):
            take()
            a, b = e, atom()
            e = lambda rec, a=a, b=b: a(rec) and b(rec)  # noqa: E731
        return e

    def disj():
        e = conj()
        while peek() == ("word", "or"):
            take()
            a, b = e, conj()
            e = lambda rec, a=a, b=b: a(rec) or b(rec)  # noqa: E731
        return e

    expr = disj()
    if pos != len(toks):
        raise XapiError("INVALID_VALUE", "expression", text)
    return expr
