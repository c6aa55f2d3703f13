"""Checking a YAML file against a spec before it is used: every key known,
every value of the right type. Problems name the file, the line and the key
(scenarios, compliance baselines). A spec maps a key to a type, a tuple of
types, a nested spec, or ``[item spec]`` for a list; ``{str: spec}`` is a
mapping whose keys are free (names) and whose values follow ``spec``."""

from __future__ import annotations

import yaml

NUM = (int, float)

_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a mapping",
    list: "a list",
}


def where(node, source: str, key: str) -> str:
    return f"{source} line {node.start_mark.line + 1}, {key}"


def load(text: str, source: str, spec: dict, what: str):
    """(data, root node, problems) for YAML ``text``; data is None when it is
    not YAML or not a mapping (``what`` names what it should be)."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return None, None, [f"{source}{line}: not valid YAML ({problem})"]
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
        for key_node, value_node in node.value:
            key = _key(key_node)
            here = f"{path}.{key_node.value}" if path else str(key_node.value)
            if free and key in value and not isinstance(key, str):
                problems.append(f"{where(key_node, source, here)}: a name must be text")
            elif not free and (key not in spec or key not in value):
                known = ", ".join(sorted(spec))
                problems.append(f"{where(key_node, source, here)}: unknown key (known: {known})")
            elif key in value:  # (a merge key, <<, is checked where it points)
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
            problems.append(f"{where(node, source, path)}: expected {want}, got {value!r}")


def _key(key_node):
    """A mapping key as safe_load has it (``1: x`` is the int 1, ``yes`` True)."""
    try:
        key = yaml.safe_load(yaml.serialize(key_node))
    except yaml.YAMLError:
        return key_node.value
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key
