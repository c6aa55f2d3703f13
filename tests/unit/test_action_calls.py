"""Every action declares the XAPI calls that change something (what RBAC
checks before the admin fills a form): the calls written in its code, and in
the module's functions it uses, must all be declared; so must the HTTP
handlers it sends requests to, by their permission (http/get_pool_xml_db_sync)."""

import ast
import importlib
import inspect
import pkgutil
import textwrap

import xstui.services
from xstui.datamodel import http_permission, least_role
from xstui.services.actions import Action

# how a call's method name is passed: position of the argument
SENDERS = {"call": 0, "task": 0, "undo_task": 1, "run_task": 1}
# the helpers that send an HTTP request to a handler (its URI a literal
# argument), and their method: the handler's permission is a call to declare
HTTP_SENDERS = {
    "fetch": "GET",
    "download": "GET",
    "get_bytes": "GET",
    "upload": "PUT",
    "send": "PUT",
}


def all_actions() -> list[type[Action]]:
    for info in pkgutil.walk_packages(xstui.services.__path__, "xstui.services."):
        importlib.import_module(info.name)
    out, todo = [], list(Action.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo += cls.__subclasses__()
    return out


def written_calls(node: ast.AST, module_functions: dict[str, ast.AST], seen=None) -> set[str]:
    seen = set() if seen is None else seen
    found = set()
    for n in ast.walk(node):
        if not isinstance(n, ast.Call):
            continue
        name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        if name in HTTP_SENDERS:
            for arg in n.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(http_permission(HTTP_SENDERS[name], arg.value) or "")
        if name in SENDERS and len(n.args) > SENDERS[name]:
            arg = n.args[SENDERS[name]]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value.removeprefix("Async."))
        if name in module_functions and name not in seen:
            seen.add(name)
            found |= written_calls(module_functions[name], module_functions, seen)
    return found


def test_actions_declare_the_calls_they_make():
    problems = []
    actions = all_actions()
    assert len(actions) > 30
    for cls in actions:
        if inspect.isabstract(cls):
            continue
        tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
        functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        body = set()
        for klass in cls.__mro__:
            if klass in (Action, object) or not issubclass(klass, Action):
                continue
            body |= written_calls(ast.parse(textwrap.dedent(inspect.getsource(klass))), functions)
        writes = {c for c in body if c and least_role(c) != "read-only"}
        missing = writes - set(cls.calls)
        if missing:
            problems.append(f"{cls.__module__}.{cls.__name__}: {sorted(missing)}")
    assert not problems, problems
