"""``dbox profiles list``: the clients' profiles of config.toml (``dbox --profile NAME`` picks one)."""

from __future__ import annotations

import typer

from dbox.commands.common import FormatOption
from dbox.i18n import _

app = typer.Typer(no_args_is_help=True,
                  help="Clients' profiles in config.toml: each its own store, channels and settings.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="profiles")


@app.command("list")
def list_(fmt: str = FormatOption):
    """Profiles of the config file: name, store, configured channels (the active one marked *)."""
    from dbox.output import emit
    from dbox.paths import config_file
    from dbox.profiles import list_profiles

    found = list_profiles()
    if not found and fmt == "table":
        typer.echo(_('No profiles in {config_file}: add a [profiles.NAME] table with db = "..." (docs/team.md)').format(
                       config_file=config_file()))
        return
    rows = [[("* " if p.active else "") + p.name if fmt == "table" else p.name, p.store,
             ", ".join(p.channels), p.active] for p in found]
    emit(rows, ["profile", "store", "channels", "active"], fmt=fmt)
