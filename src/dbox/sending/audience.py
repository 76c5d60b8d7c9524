"""The audience of a send: a selection from the segments library (a WHERE over alias ``c``).

The filter language is the segments library's business; reachability (consent, valid address,
suppressions, one message per address) is enforced by the ledger whatever the selection says.
"""

from __future__ import annotations

from dbox.sending.service import Selection
from dbox.segments import select


def resolve(store, expression: str | None = None, segment: str | None = None,
            shortcuts: dict[str, str] | None = None) -> Selection:
    """Compile what the user typed (expression, saved segment, shortcut flags) into a Selection;
    nothing given means every contact."""
    sel = select(store, expression, segment=segment, shortcuts=shortcuts or None)
    return Selection(sel.where, list(sel.params), sel.expression or "", segment)
