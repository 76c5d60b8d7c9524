"""The information due to people whose data came from a third party (GDPR art. 14).

A contact imported from a list the campaign did not collect itself (a public parrainage list, a
follower export) has not been told who holds their data. The first message they receive must say
who is writing, why, and how to object. dbox keeps that text in the config file::

    [privacy]
    information_mention = "Vous recevez ce message de l'équipe de Marie Curie (candidate aux
      municipales de Grenoble) car votre nom figure sur la liste publique des parrainages.
      Pour vous opposer : répondez STOP ou écrivez à contact@exemple.fr."

    [privacy.information_mentions]   # optional, per channel; wins over information_mention
    sms = "Équipe M. Curie, municipales Grenoble. Liste publique des parrainages. STOP au 36111"

and ``dbox send`` calls :func:`check_send` before confirming: it returns a warning when the
audience reaches third-party contacts never written to before and the message lacks the mention.
Which contacts come from a third party: :func:`mark_import` (``dbox privacy sources``), the import
kinds and tags of ``[privacy] third_party_import_kinds`` / ``third_party_tags``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.errors import InputError
from dbox.privacy import audit
from dbox.store import privacy as sp
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.config import load_config
from dbox.privacy.retention import load_rules
from dbox.i18n import _


def _privacy_config(config: dict | None) -> dict:
    if config is None:
        config = load_config()
    value = config.get("privacy", {})
    return value if isinstance(value, dict) else {}


def information_mention(channel: str, config: dict | None = None) -> str | None:
    """The configured mention for ``channel`` (per-channel text first), or None."""
    privacy = _privacy_config(config)
    per_channel = privacy.get("information_mentions", {})
    text = per_channel.get(channel) if isinstance(per_channel, dict) else None
    text = text or privacy.get("information_mention")
    if text is not None and not isinstance(text, str):
        raise InputError(_("config [privacy] information_mention: expected text, got {text!r}").format(text=text))
    return " ".join(text.split()) if text and text.strip() else None


def contains_mention(message: str, mention: str) -> bool:
    """Whether ``message`` carries ``mention`` (case, accents, punctuation and spacing ignored)."""
    return fold(mention) in fold(message or "")


def third_party_clause(config: dict | None = None) -> tuple[str, list]:
    """SQL over alias ``c`` for contacts whose data came from a third party."""
    rules = load_rules(config)
    return sp.third_party_clause(rules.third_party_import_kinds, rules.third_party_tags)


@dataclass
class NoticeCheck:
    third_party_first: int          # third-party contacts of the audience never written to before
    mention: str | None
    message_has_mention: bool

    @property
    def warning(self) -> str | None:
        if not self.third_party_first:
            return None
        who = (f"{self.third_party_first:,} contact{'s' if self.third_party_first > 1 else ''} whose data came "
               f"from a third party and who {'have' if self.third_party_first > 1 else 'has'} never been written to")
        if self.mention is None:
            return (f"this campaign reaches {who}, and no information mention is configured: their first "
                    f"message must say who writes, why, and how to object (set [privacy] information_mention "
                    f"in the config file, see docs/privacy.md)")
        if not self.message_has_mention:
            return (f"this campaign reaches {who}, and the message lacks the configured information mention "
                    f"(who writes, why, how to object): add it to the message")
        return None


def check_send(store: Store, where: str, params, channel: str, message: str,
               config: dict | None = None) -> NoticeCheck:
    """For ``dbox send``: does this message owe an information mention it lacks? ``where``/``params``
    select the audience (alias ``c``); ``message`` is the text (or template) sent; for e-mail, pass
    the plain-text part (the subject does not count)."""
    clause, clause_params = third_party_clause(config)
    sent = sp.messages_sent_clause(store)
    never_sent = f" AND {sent[0]} = 0" if sent else ""
    consented, consented_params = sp.granted_clause(channel)   # only those the send can reach
    count = sp.count_where(store, f"({where}) AND {clause} AND {consented}{never_sent}",
                           [*params, *clause_params, *consented_params, *(sent[1] if sent else [])])
    mention = information_mention(channel, config)
    return NoticeCheck(count, mention, bool(mention) and contains_mention(message, mention))


def send_warning(store: Store, where: str, params, channel: str, message: str) -> str | None:
    """The one call ``dbox send`` makes: a warning to print before confirming, or None."""
    return check_send(store, where, params, channel, message).warning


def mark_import(store: Store, import_id: int, origin: str | None) -> tuple:
    """Mark an import as third-party data (``origin`` says where it came from), or as the
    campaign's own data (``origin`` None). Returns the import row."""
    row = sp.import_row(store, import_id)
    if row is None:
        raise InputError(_("no import with id {import_id}").format(import_id=import_id), hint=_("see: dbox privacy sources"))
    with store.transaction(immediate=True):
        if origin is None:
            sp.unmark_third_party(store, import_id)
        else:
            origin = " ".join(origin.split())
            if not origin:
                raise InputError(_('--third-party needs the origin of the data, e.g. "liste publique des parrainages"'))
            sp.mark_third_party(store, import_id, origin, utcnow(), audit.os_user())
        audit.record(store, "privacy sources", row[5] or 0,
                     {"import_id": import_id, "third_party": origin is not None})
    return row


def sources(store: Store, config: dict | None = None) -> list[tuple]:
    """(import id, file, kind, finished, contacts, third-party origin or None) for every import."""
    return sp.imports_with_origin(store, load_rules(config).third_party_import_kinds)
