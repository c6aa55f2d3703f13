"""Reading YAML files (config, scenarios, compliance baselines), bounded, and
checking them against a spec before they are used: every key known, every
value of the right type. Problems name the file, the line and the key.

Every YAML the console reads goes through :func:`parse` (or :func:`load`):
at most :data:`MAX_BYTES`, nested at most :data:`MAX_DEPTH` levels, at most
:data:`MAX_VALUES` values once aliases are expanded, and a key given twice
in one mapping is refused (PyYAML would keep the last one silently).

A spec maps a key to a type, a tuple of types, a nested spec, or
``[item spec]`` for a list; ``{str: spec}`` is a mapping whose keys are free
(names) and whose values follow ``spec``."""

from __future__ import annotations

import os
import reprlib

import yaml

from .services.values import size

NUM = (int, float)
MAX_BYTES = 1024 * 1024  # a baseline for hundreds of hosts is tens of KiB
MAX_DEPTH = 32  # the deepest spec is 5 levels
MAX_VALUES = 200_000  # what 1 MiB of plain YAML may hold; aliases must not multiply it

_MERGE = "tag:yaml.org,2002:merge"
_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a mapping",
    list: "a list",
}


class YamlError(ValueError):
    """A YAML file that is refused; the message names the file, the line and why."""


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounds: nesting, values once aliases are
    expanded, and no key twice in one mapping."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth, self._values = 0, 0
        self._sizes: dict[int, int] = {}  # id(node) -> its values, aliases expanded
        self._checked: set[int] = set()  # mappings whose keys were compared

    def compose_node(self, parent, index):
        alias = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        if self._depth >= MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if alias:  # (an alias to a node still being composed counts once)
            self._values += self._sizes.get(id(node), 1)
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else ()
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(c), 1) for c in children)
            self._values += 1
        if self._values > MAX_VALUES:
            raise _Refused(f"more than {MAX_VALUES} values (aliases counted where used)", mark)
        return node

    def flatten_mapping(self, node):
        # each mapping's own keys compared before merge keys (<<) bring others in
        if id(node) not in self._checked:
            self._checked.add(id(node))
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                try:
                    first = seen.setdefault(self.construct_object(key_node, deep=True), key_node)
                except TypeError:  # an unhashable key: PyYAML refuses it next
                    continue
                if first is not key_node:
                    raise _Refused(
                        f"the key {_shown(key_node)} is given twice "
                        f"(first on line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        super().flatten_mapping(node)


def read_text(path: str | os.PathLike) -> str:
    """A YAML file's text. YamlError when it is larger than MAX_BYTES (only
    that much is read); OSError and UnicodeDecodeError as Path.read_text."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlError(_too_large(path))
    return raw.decode()


def parse(text: str, source: str):
    """(data, root node) of YAML ``text`` (both None for an empty document),
    within the bounds; YamlError naming ``source`` and the line otherwise."""
    if len(text) > MAX_BYTES:
        raise YamlError(_too_large(source))
    loader = BoundedLoader(text)
    try:
        root = loader.get_single_node()
        return (None if root is None else loader.construct_document(root)), root
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        if isinstance(exc, _Refused):
            raise YamlError(f"{source}{line}: {exc.problem}") from None
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise YamlError(f"{source}{line}: not valid YAML ({problem})") from None
    except (ValueError, OverflowError) as exc:  # a date that is no date: 2024-13-45
        raise YamlError(f"{source}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()


def where(node, source: str, key: str) -> str:
    return f"{source} line {node.start_mark.line + 1}, {key}"


def load(text: str, source: str, spec: dict, what: str):
    """(data, root node, problems) for YAML ``text``; data is None when it is
    not YAML or not a mapping (``what`` names what it should be)."""
    try:
        data, root = parse(text, source)
    except YamlError as exc:
        return None, None, [str(exc)]
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        return None, None, [f"{source}: {what}"]
    problems: list[str] = []
    walk(root, data, spec, source, "", problems)
    return data, root, problems


def walk(node, value, spec, source: str, path: str, problems: list[str]) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(f"{where(node, source, path or 'top level')}: expected a mapping")
            return
        free = list(spec) == [str]  # names as keys, each value following spec[str]
        # the last pair of a key is its value: keys a merge (<<) brought in come first
        pairs = {_key(key_node): (key_node, value_node) for key_node, value_node in node.value}
        for key, (key_node, value_node) in pairs.items():
            here = f"{path}.{key_node.value}" if path else str(key_node.value)
            if free and key in value and not isinstance(key, str):
                problems.append(f"{where(key_node, source, here)}: a name must be text")
            elif not free and (key not in spec or key not in value):
                known = ", ".join(sorted(spec))
                problems.append(f"{where(key_node, source, here)}: unknown key (known: {known})")
            elif key in value:
                walk(
                    value_node, value[key], spec[str] if free else spec[key], source, here, problems
                )
    elif isinstance(spec, list):
        if not isinstance(value, list):
            problems.append(f"{where(node, source, path)}: expected a list")
            return
        for i, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
            walk(item_node, item, spec[0], source, f"{path}[{i}]", problems)
    else:
        kinds = spec if isinstance(spec, tuple) else (spec,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            want = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            problems.append(
                f"{where(node, source, path)}: expected {want}, got {reprlib.repr(value)}"
            )


def _key(key_node):
    """A mapping key as the loader has it (``1: x`` is the int 1, ``yes`` True)."""
    try:
        key = yaml.constructor.SafeConstructor().construct_object(key_node, deep=True)
    except yaml.YAMLError:
        return key_node.value
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key


def _too_large(source) -> str:
    return f"{source}: larger than {size(MAX_BYTES)}, not read (the console's YAML files are far smaller)"


def _shown(key_node) -> str:
    return repr(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "(a complex key)"
