"""The audience of a send: a selection from the segments library (a WHERE over alias ``c``).

The filter language is the segments library's business; reachability (consent, valid address,
suppressions, one message per address) is enforced by the ledger whatever the selection says.
"""

from __future__ import annotations

from dbox.errors import InputError
from dbox.sending.service import Selection


def resolve(store, expression: str | None = None, segment: str | None = None,
            shortcuts: dict[str, str] | None = None) -> Selection:
    """Compile what the user typed into a Selection (everyone when nothing is given)."""
    shortcuts = {k: v for k, v in (shortcuts or {}).items() if v not in (None, "", False)}
    try:
        from dbox.segments import select
    except ModuleNotFoundError as exc:
        if exc.name != "dbox.segments":
            raise
        if expression or segment or shortcuts:
            raise InputError("segment expressions need the segments library (dbox.segments), not installed") from None
        return Selection("1", [], "", None)
    sel = select(store, expression, segment=segment, shortcuts=shortcuts or None)
    return Selection(sel.where, list(sel.params), getattr(sel, "expression", expression or "") or "", segment)
