"""Mapping the columns of an electoral file to what dbox reads, the way ``dbox import`` does:
headers compared folded (:func:`dbox.text.fold`: case, accents, punctuation and line breaks
ignored), ``--map "Header=field"`` overrides, ``=ignore`` skips a column."""

from __future__ import annotations

from dbox.errors import InputError
from dbox.text import fold
from dbox.i18n import _


def map_headers(header: list[str], aliases: dict[str, list[str]], overrides: list[str] | None = None,
                *, what: str) -> dict[str, int]:
    """field -> column index, from folded aliases and ``HEADER=FIELD`` overrides (first column wins)."""
    table = {fold(alias): name for name, names in aliases.items() for alias in names}
    forced: dict[str, str] = {}
    for spec in overrides or []:
        head, sep, target = spec.rpartition("=")
        head, target = head.strip(), target.strip()
        if not sep or not head or not target:
            raise InputError(_("--map {spec!r}: expected HEADER=FIELD").format(spec=spec))
        if target != "ignore" and target not in aliases:
            raise InputError(_("--map {spec!r}: unknown field {target!r}").format(spec=spec, target=target),
                             hint=f"fields of {what}: " + ", ".join(aliases) + ", ignore")
        forced[fold(head)] = target
    folded = [fold(h) for h in header]
    missing = set(forced) - set(folded)
    if missing:
        raise InputError(_("--map names no column of the file: {items}").format(items=', '.join(sorted(missing))),
                         hint="columns: " + ", ".join(header))
    found: dict[str, int] = {}
    for i, key in enumerate(folded):
        target = forced.get(key) or table.get(key)
        if target and target != "ignore" and target not in found:
            found[target] = i
    return found
