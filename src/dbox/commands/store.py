"""``dbox init``: create the store (or show where it is)."""

from __future__ import annotations

import typer

from dbox.commands.common import store_from
from dbox.i18n import _, grouped


def init(ctx: typer.Context):
    """Create the contact store if needed and print where it is."""
    from dbox.console import out
    from dbox.store.db import schema_version
    from dbox.store.geo import reference_size

    from dbox.store.db import store_exists

    existed = store_exists(ctx.obj.store_path)
    store = store_from(ctx)
    out.print((_("Store: {location}") if existed else _("Created store: {location}")).format(location=store.location))
    out.print(_("Schema version {schema_version}, {reference_size} communes in the geography table.").format(
                  schema_version=schema_version(), reference_size=grouped(reference_size(store))))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
