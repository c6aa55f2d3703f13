"""An older host: what its release of the API lacks. The simulator hides the
classes, fields and messages that the datamodel's lifecycle says a release
did not have (a scenario's ``api: creedence``), or, serving a real pool
database, what the release its tables point to lacked; calls to them
are unknown methods and records come without those fields, as from that
release's XAPI."""

from __future__ import annotations

from ..datamodel import absent_in, classes, releases, removed_in

# implicit messages that read or change one field (get_name_label, add_to_other_config)
_FIELD_PREFIXES = ("get_", "set_", "add_to_", "remove_from_", "add_", "remove_")


class Release:
    def __init__(self, code: str = "", absent=frozenset(), removed=frozenset()):
        self.code = code or releases()[-1][0]
        # what it had once: MESSAGE_REMOVED, not MESSAGE_METHOD_UNKNOWN
        self.removed = frozenset(r.removesuffix("()") for r in removed)
        self.classes = frozenset(a for a in absent if "." not in a)
        self.fields: dict[str, frozenset[str]] = {}
        for item in absent:
            if "." in item and not item.endswith("()"):
                cls, f = item.split(".", 1)
                self.fields[cls] = self.fields.get(cls, frozenset()) | {f}
        self.messages = frozenset(a[:-2] for a in absent if a.endswith("()"))

    @classmethod
    def named(cls, code: str) -> Release:
        """A release by code name (``creedence``, ``ely``, ``stockholm``, ``25.6.0``)."""
        return cls(code, absent_in(code), removed_in(code))

    @classmethod
    def of_dump(cls, tables: set[str], manifest: dict | None = None) -> Release:
        """A real dump's release: the one its manifest names (product brand
        and version, "XenServer" "6.0.0" is XenServer 6.0), else told by its
        tables: the newest release that lacked every class the dump has no
        table for (a dump from before pool_update was born is at most the
        release before it)."""
        manifest = manifest or {}
        version = manifest.get("product_version", "")
        named = f"{manifest.get('product_brand', '')} {version.removesuffix('.0')}".strip()
        for code, product in releases():
            if version and product == named:
                return cls.named(code)
        missing = frozenset(c for c in classes() if c not in tables)
        for code, _product in reversed(releases()):
            absent = absent_in(code)
            if missing <= absent:
                return cls(code, absent | missing)
        return cls(releases()[0][0], missing)

    @property
    def product(self) -> str:
        return dict(releases()).get(self.code, self.code)

    def unknown_code(self, cls: str, name: str) -> str:
        """The error a call to a message it lacks gets."""
        gone = cls in self.removed or f"{cls}.{name}" in self.removed
        return "MESSAGE_REMOVED" if gone else "MESSAGE_METHOD_UNKNOWN"

    def lacks(self, cls: str, name: str) -> bool:
        """Whether the message ``cls.name`` is unknown to this release."""
        if cls in self.classes or f"{cls}.{name}" in self.messages:
            return True
        hidden = self.fields.get(cls)
        if hidden:
            for prefix in _FIELD_PREFIXES:
                if name.startswith(prefix) and name[len(prefix) :] in hidden:
                    return True
        return False

    def shown(self, cls: str, record: dict) -> dict:
        """A record as this release sends it: without the fields it lacks."""
        hidden = self.fields.get(cls)
        if not hidden:
            return dict(record)
        return {k: v for k, v in record.items() if k not in hidden}
