"""The expression language of ``get_all_records_where``, read token for token
as XAPI reads it (xen-api ocaml/database: db_filter_lex.mll, db_filter_parse.mly,
db_filter.ml)::

    expr  := value "=" value | expr "and" expr | expr "or" expr | "not" expr
           | "true" | "false" | "(" expr ")"
    value := '"literal"' | 'field "column"'

The lexer knows only those words, "=", the parentheses, double-quoted strings
(no escapes: a string ends at the next double quote) and blanks (space, tab,
newline); it has no identifiers, so ``andfield`` reads as ``and field``, and
the words are lowercase only. "and" and "or" bind alike, from the left
(``a or b and c`` is ``(a or b) and c``); "not" takes all that follows it
(``not a and b`` is ``not (a and b)``). Values compare as the strings the
database stores; a column is the database's (``name__label``, not the API's
``name_label``), and one the table lacks is XAPI's INTERNAL_ERROR "missing
field" (only for a row the expression reaches it on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .errors import XapiError

WORDS = ("true", "false", "field", "and", "or", "not")  # the lexer tries them in this order
BLANKS = " \t\n"
# how XAPI's ExnHelper words the two failures (Printexc.to_string)
PARSE_ERROR = "Stdlib.Parsing.Parse_error"
LEXING_ERROR = 'Failure("lexing: empty token")'

Lookup = Callable[[str], str]  # a column's value in the row, as the database stores it
Predicate = Callable[[Lookup], bool]


class _Refused(Exception):
    def __init__(self, why: str):
        self.why = why


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """("word", w), ("=" | "(" | ")", c), ("ident", s), then ("eof", "")."""
    pos = 0
    while True:
        while pos < len(text) and text[pos] in BLANKS:
            pos += 1
        if pos == len(text):
            yield ("eof", "")
            return
        c = text[pos]
        if c in "=()":
            pos += 1
            yield (c, c)
        elif c == '"':
            end = text.find('"', pos + 1)
            if end < 0:
                raise _Refused(LEXING_ERROR)
            yield ("ident", text[pos + 1 : end])
            pos = end + 1
        else:
            word = next((w for w in WORDS if text.startswith(w, pos)), None)
            if word is None:
                raise _Refused(LEXING_ERROR)
            pos += len(word)
            yield ("word", word)


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.current = next(self.tokens)

    def take(self, kind: str, value: str = "") -> str:
        got_kind, got = self.current
        if got_kind != kind or (value and got != value):
            raise _Refused(PARSE_ERROR)
        if got_kind != "eof":
            self.current = next(self.tokens)
        return got

    def at(self, kind: str, value: str = "") -> bool:
        return self.current[0] == kind and (not value or self.current[1] == value)

    def expr(self) -> Predicate:
        """A chain of "and"/"or", from the left."""
        left = self.operand()
        while self.at("word", "and") or self.at("word", "or"):
            op = self.take("word")
            a, b = left, self.operand()
            if op == "and":
                left = lambda get, a=a, b=b: a(get) and b(get)  # noqa: E731
            else:
                left = lambda get, a=a, b=b: a(get) or b(get)  # noqa: E731
        return left

    def operand(self) -> Predicate:
        if self.at("word", "not"):
            self.take("word")
            inner = self.expr()  # "not" is weaker than and/or: it takes the rest
            return lambda get: not inner(get)
        if self.at("word", "true") or self.at("word", "false"):
            truth = self.take("word") == "true"
            return lambda get: truth
        if self.at("("):
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        left = self.value()
        self.take("=")
        right = self.value()
        return lambda get: left(get) == right(get)

    def value(self) -> Callable[[Lookup], str]:
        if self.at("word", "field"):
            self.take("word")
            column = self.take("ident")
            return lambda get: get(column)
        literal = self.take("ident")
        return lambda get: literal


def compile_where(text: str) -> Predicate:
    """A predicate over a row (given as its column lookup), or XAPI's
    INVALID_VALUE [expression, reason] for an expression it would refuse."""
    try:
        parser = _Parser(text)
        predicate = parser.expr()
        parser.take("eof")
    except _Refused as refused:
        raise XapiError("INVALID_VALUE", text, refused.why) from None
    return predicate


def missing_field(column: str) -> XapiError:
    return XapiError("INTERNAL_ERROR", "missing field", column, "")


def db_string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
