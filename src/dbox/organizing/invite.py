"""Inviting a segment to an action through the normal send pipeline (dbox.sending).

Nothing here sends: the invitation is an ordinary campaign — consent, valid address, suppression
list, quiet hours, one message per address, the ledger written before and after each provider
call, resumable with ``dbox send --resume`` — whose message may use the action's details:

    {{ action.title }}  {{ action.type }}  {{ action.date }}  {{ action.time }}  {{ action.end_time }}
    {{ action.when }}  {{ action.address }}  {{ action.commune }}  {{ action.place }}
    {{ action.description }}  {{ action.id }}

They are written into the message as text before the campaign is created, so the campaign stores
the very message it sends (a resumed campaign sends the same words even if the action changed).

Who is invited: the selection, less the people already invited to this action on this channel (a
message planned, sent or in doubt) and the people who already answered. ``again`` drops that rule
(to announce a change of date to everyone, say). The campaign's fingerprint is recorded against
the action before the first message goes, so ``invited:ACTION`` and ``dbox action stats`` count
every invitation, including the part of a campaign sent later by ``dbox run-due``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.errors import InputError
from dbox.organizing.actions import Action, is_past
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.channels import get_channel
from dbox.privacy import audit
from dbox.sending import service
from dbox.sending.audience import resolve
from dbox.sending.compose import Template, load_template
from dbox.store import ledger
from dbox.i18n import _

DEFAULT_SMS = ("Bonjour {{ first_name }}, {{ action.type }} « {{ action.title }} » {{ action.when }}"
               "{% if action.place %}, {{ action.place }}{% endif %}. On compte sur vous !")
DEFAULT_SUBJECT = "Invitation : {{ action.title }}, {{ action.when }}"
DEFAULT_EMAIL = ("Bonjour {{ first_name }},\n\n"
                 "Nous vous invitons : {{ action.type }} « {{ action.title }} », {{ action.date }} à {{ action.time }}"
                 "{% if action.place %}, {{ action.place }}{% endif %}.\n"
                 "{% if action.description %}\n{{ action.description }}\n{% endif %}\n"
                 "Dites-nous si vous venez en répondant à ce message.\n")


def _literal(value: str) -> str:
    """A Jinja string literal that evaluates to ``value`` exactly."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped + '"'


def bind_action(text: str | None, fields: dict[str, str], part: str) -> str | None:
    """``text`` with every ``action.<field>`` replaced by its value (as a string literal), inside
    ``{{ }}`` and ``{% %}`` alike; other fields are left for the send pipeline."""
    if text is None:
        return None
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        tokens = list(SandboxedEnvironment().lex(text))
    except TemplateSyntaxError as exc:
        raise InputError(_("{part}, line {lineno}: template error: {message}").format(
                             part=part, lineno=exc.lineno, message=exc.message)) from None
    out: list[str] = []
    i = 0
    while i < len(tokens):
        lineno, kind, value = tokens[i]
        follows_dot = bool(out) and _previous_significant(tokens, i) == ("operator", ".")
        if kind == "name" and value == "action" and not follows_dot:
            j = _next_significant(tokens, i + 1)
            k = _next_significant(tokens, j + 1) if j < len(tokens) else len(tokens)
            if j < len(tokens) and tokens[j][1:] == ("operator", ".") and k < len(tokens) and tokens[k][1] == "name":
                key = tokens[k][2]
                if key not in fields:
                    raise InputError(_("{part}, line {lineno}: unknown field {{{{ action.{key} }}}}").format(
                                         part=part, lineno=lineno, key=key),
                                     hint="action fields: " + ", ".join(f"action.{f}" for f in fields))
                out.append(_literal(fields[key]))
                i = k + 1
                continue
            raise InputError(_("{part}, line {lineno}: use the action's fields one by one, e.g. {{{{ action.title }}}}").format(
                                 part=part, lineno=lineno),
                             hint="action fields: " + ", ".join(f"action.{f}" for f in fields))
        out.append(value)
        i += 1
    return "".join(out)


def _next_significant(tokens, i: int) -> int:
    while i < len(tokens) and tokens[i][1] == "whitespace":
        i += 1
    return i


def _previous_significant(tokens, i: int):
    j = i - 1
    while j >= 0 and tokens[j][1] == "whitespace":
        j -= 1
    return tokens[j][1:] if j >= 0 else None


@dataclass
class Invitation:
    action: Action
    request: object        # dbox.sending.service.SendRequest
    excluded_already: bool


def prepare(store: Store, action: Action, channel: str, *, expression: str | None = None, segment: str | None = None,
            shortcuts: dict | None = None, message: str | None = None, template_path=None,
            subject: str | None = None, html=None, again: bool = False, limit: int | None = None,
            now: bool = False, at: str | None = None, dry_run: bool = False) -> Invitation:
    """The send request for an invitation (checked; nothing written)."""
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {cancelled_at}: no invitation").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))
    if is_past(action):
        raise InputError(_("action {id} took place {when_text}: too late to invite").format(
                             id=action.id, when_text=action.when_text()))
    if not ((expression or "").strip() or (segment or "").strip() or shortcuts):
        raise InputError(_("whom to invite? give a segment (--segment NAME) or a filter expression"),
                         hint=_("e.g. dbox action invite {id} --segment militants --sms").format(id=action.id))
    kind = get_channel(channel).compose_rules({}).kind
    if message is None and template_path is None:
        message = DEFAULT_EMAIL if kind == "email" else DEFAULT_SMS
        if kind == "email" and subject is None:
            subject = DEFAULT_SUBJECT
    template = load_template(kind, message, template_path, subject, html)
    fields = action.merge_fields()
    bound = Template(bind_action(template.body, fields, "message"), bind_action(template.subject, fields, "subject"),
                     bind_action(template.html, fields, "HTML part"))
    base = resolve(store, expression, segment, shortcuts)
    where, params = f"({base.where})", list(base.params)
    label = f"invitation to action {action.id}"
    if not again:
        clause, clause_params = so.not_yet_invited_clause(action.id, channel)
        where, params = f"{where} AND {clause}", params + clause_params
        label += ", not yet invited"
    selection = service.Selection(where, params, f"{base.expression or 'everyone'} ({label})", base.segment)
    request = service.SendRequest(channel=channel, selection=selection, template=bound, at=at, now=now, limit=limit,
                                  dry_run=dry_run)

    existing = ledger.find_by_fingerprint(store, service.fingerprint(channel, selection, bound))
    if existing is not None and existing.status == "done":
        # the same invitation went out before: send it to whoever joined the selection since
        request.new_campaign = True
    return Invitation(action, request, not again)


def record(store: Store, invitation: Invitation, fingerprint: str) -> None:
    """Tie the campaign to the action before anything is sent."""
    with store.transaction(immediate=True):
        so.add_invitation(store, invitation.action.id, invitation.request.channel, fingerprint, utcnow())

        audit.record(store, "action invite", 0, {"action": invitation.action.id,
                                                 "channel": invitation.request.channel})


def start(store: Store, invitation: Invitation, plan, *, log=None, progress=None):
    """Record the link, then send (or schedule) through the send pipeline; (campaign id, report)."""
    record(store, invitation, plan.fingerprint)
    kwargs = {"progress": progress}
    if log is not None:
        kwargs["log"] = log
    return service.start(store, plan, **kwargs)
