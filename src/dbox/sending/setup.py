"""``dbox channels setup``: ask for a channel's settings, validate them, then write the secrets to
the keyring and the rest to config.toml (nothing is written when a value is wrong).

On a headless server (no usable keyring) the keyring is checked before anything is asked: secrets
are not asked for, the non-secret settings are saved all the same, and the exact environment lines
for the secrets are printed (for the crontab). Without a terminal, settings still missing at the end
are an error (exit 5) naming them, so a provisioning script cannot believe it worked."""

from __future__ import annotations

from collections.abc import Callable

from dbox.errors import InputError, NotConfiguredError
from dbox.i18n import _
from dbox.sending.rate import parse_rate
from dbox.sending.window import SendWindow
from dbox.channels import get_channel
from dbox.config import load_config, save_config, section
from dbox.secrets import get_secret, keyring_problem, set_secret

# Settings every channel accepts besides its own fields (quiet hours, speed).
COMMON = ("rate", "workers", "quiet_hours", "send_days", "send_from", "send_until", "timezone", "holidays",
          "holidays_subdiv")


def parse_assignments(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(_("--set {item!r}: use name=value").format(item=item))
        values[name.strip()] = value.strip()
    return values


def _common(name: str, value: str):
    if name == "rate":
        parse_rate(value)
        return value
    if name == "workers":
        if not value.isdigit() or not 1 <= int(value) <= 32:
            raise InputError(_("workers {value!r}: use 1 to 32").format(value=value))
        return int(value)
    if name == "quiet_hours":
        if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise InputError(_("quiet_hours {value!r}: use true or false").format(value=value))
        return value.lower() in ("true", "yes", "1")
    SendWindow.from_settings({name: value, "quiet_hours": True}, True)   # validates days, times, zone, country
    return value


def apply_setup(channel_id: str, given: dict[str, str], ask: Callable | None,
                secrets_in: dict[str, str] | None = None, warn: Callable[[str], None] | None = None) -> list[str]:
    channel = get_channel(channel_id)
    fields = {f.name: f for f in channel.fields}
    secrets_in = {k: v for k, v in (secrets_in or {}).items() if k}
    for name in [*given, *secrets_in]:
        if name not in fields and name not in COMMON:
            raise InputError(_("unknown setting {name!r} for channel {channel_id}").format(
                                 name=name, channel_id=channel_id),
                             hint=_("settings: {items}").format(items=", ".join([*fields, *COMMON])))
    for name in given:
        if name in fields and fields[name].secret:
            raise InputError(_("{name} is a secret: type it at the prompt or pass it with --secret-stdin {name}, never on the command line").format(
                                 name=name))
    for name in secrets_in:
        if name not in fields or not fields[name].secret:
            raise InputError(_("--secret-stdin {name}: not a secret of channel {channel_id}").format(
                                 name=name, channel_id=channel_id))
    stored = section(f"channels.{channel_id}")
    problem = keyring_problem()       # before asking anything: no secret is typed in vain
    if problem and warn is not None and any(f.secret for f in fields.values()):
        warn(_("no usable system keyring ({problem}): secrets are not asked for; set them in the environment (the lines are printed at the end)").format(
                 problem=problem))
    plain: dict = {}
    secret_values: dict[str, str] = {}
    for name, f in fields.items():
        if f.secret:
            value = secrets_in.get(name)
            if value is None and ask is not None and not problem and f.ask:
                value = ask(f, get_secret(f"{channel_id}.{name}", None)) or None
            if value:
                secret_values[name] = value
            continue
        if name in given:
            value = given[name]
        elif ask is not None and f.ask:
            value = ask(f, stored.get(name, f.default))
        else:
            continue
        if value in (None, ""):
            if name in stored:
                plain[name] = None
            continue
        try:
            plain[name] = f.validate(value) if f.validate else value
        except InputError as exc:
            raise InputError(f"{name}: {exc}", hint=exc.hint) from None
    for name in COMMON:
        if name in given:
            plain[name] = _common(name, given[name])
    merged = {**stored, **{k: v for k, v in plain.items() if v is not None}}
    keep = {k: v for k, v in merged.items() if not (k in plain and plain[k] is None)}
    lines = []
    if plain:
        config = load_config()
        node = config.setdefault("channels", {})
        node[channel_id] = keep
        path = save_config(config)
        lines.append(_("Saved {names} for channel {channel} in {path}.").format(
            names=", ".join(sorted(k for k in plain)), channel=channel_id, path=path))
    if not problem:
        for name, value in secret_values.items():
            set_secret(f"{channel_id}.{name}", value, fields[name].env)
            lines.append(_("Stored {name} in the system keyring.").format(name=name))
    settings = channel.settings()
    missing = channel.missing(settings)
    lines.append(_("Channel {channel}: ready.").format(channel=channel_id) if not missing else
                 _("Channel {channel}: still missing {names}.").format(channel=channel_id, names=", ".join(missing)))
    unstored = [f for f in fields.values() if f.secret and f.env and (
        f.name in secret_values or f.name in missing)] if problem else []
    if unstored:
        env_lines = "\n".join(f"{f.env}=...   # {_(f.prompt)}" for f in unstored)
        raise NotConfiguredError(
            "\n".join(lines) + "\n" + _(
                "no usable system keyring: {problem}; {names} not stored (the other settings were saved). "
                "Put these lines in the environment (for cron: at the top of the crontab):").format(
                problem=problem, names=", ".join(f.name for f in unstored)) + "\n" + env_lines,
            hint=_("or install and unlock a keyring backend (e.g. Secret Service), then run this again"))
    if missing and ask is None:
        envs = [fields[n].env for n in missing if n in fields and fields[n].env]
        raise NotConfiguredError(
            "\n".join(lines[:-1] + [_("channel {channel}: {names} still missing").format(
                channel=channel_id, names=", ".join(missing))]),
            hint=_("give them with --set name=value (secrets: --secret-stdin NAME)")
                 + (_(", or set {names} in the environment").format(names=", ".join(envs)) if envs else ""))
    return lines
