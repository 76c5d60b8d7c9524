"""How stored codes are shown to people: a campaign's status, a message's state, a due reason, yes/no.

The store keeps these values in English and they stay so in JSON and ``--format csv`` (machine
outputs); a table on screen or a sentence says them in the user's language (docs/i18n.md). One
table per kind of code, marked for the catalog with ``N_``; a code without a label is shown as
stored.
"""

from __future__ import annotations

from dbox.i18n import NC_, N_, _, pgettext

CAMPAIGN_STATUSES = {
    "scheduled": N_("scheduled"), "running": N_("running"), "waiting": N_("waiting"),
    "stopped": N_("stopped"), "done": N_("done"), "paused": N_("paused"), "cancelled": N_("cancelled"),
    "held": N_("held"),
}
MESSAGE_STATES = {
    "planned": N_("planned"), "claimed": N_("claimed"), "sent": N_("sent"), "delivered": N_("delivered"),
    "failed": N_("failed"), "skipped": N_("skipped"), "in-doubt": N_("in-doubt"),
    "undelivered": N_("undelivered"), "bounced": N_("bounced"), "cancelled": N_("cancelled"),
    "published": N_("published"), "queued": N_("queued"),
}
DUE_REASONS = {"quiet hours": N_("quiet hours"), "--at": N_("--at"), "already scheduled": N_("already scheduled"),
               "election silence": N_("election silence")}
# Why a recipient was skipped, as listings say it (English: the code itself; sentences use
# dbox.sending.service.REASONS).
SKIP_REASONS = {code: code for code in (
    N_("no-address"), N_("invalid-address"), N_("no-consent"), N_("consent-refused"), N_("consent-withdrawn"),
    N_("opted-out"), N_("bounced"), N_("duplicate-address"))}
# An action's status (organizing).
ACTION_STATUSES = {"planned": NC_("action", "planned"), "cancelled": NC_("action", "cancelled"),
                   "done": NC_("action", "done")}
# Consent per channel (dbox.privacy.consent) and the events of its history.
CONSENT_STATUSES = {"granted": NC_("consent", "granted"), "withdrawn": NC_("consent", "withdrawn"),
                    "none": NC_("consent", "none")}
CONSENT_ACTIONS = {"grant": NC_("consent", "grant"), "withdraw": NC_("consent", "withdraw")}
# Retention rules (dbox.privacy.retention) as its table names them.
RETENTION_RULES = {"third-party": N_("third-party"), "election": N_("election"), "inactive": N_("inactive"),
                   "oppositions": N_("oppositions"), "inbox": N_("inbox")}
# Where an import's data came from (dbox privacy sources) and its kind.
ORIGINS = {"own": N_("own"), "(unfinished)": N_("(unfinished)")}
IMPORT_KINDS = {"contacts": N_("contacts"), "form": N_("form"), "followers": N_("followers"),
                "results": N_("results")}

# What ``dbox contacts show`` names on screen (JSON keeps the keys) and the codes it shows.
CONTACT_KEYS = {
    "id": N_("id"), "civility": N_("civility"), "first_name": N_("first_name"), "last_name": N_("last_name"),
    "email": N_("email"), "mobile": N_("mobile"), "fixed": N_("fixed"), "address": N_("address"),
    "postal_code": N_("postal_code"), "commune_name": N_("commune_name"), "commune_insee": N_("commune_insee"),
    "departement": N_("departement"), "canton_code": N_("canton_code"), "circonscription": N_("circonscription"),
    "geo_status": N_("geo_status"), "phone_region": N_("phone_region"), "created_at": N_("created_at"),
    "updated_at": N_("updated_at"), "canton": N_("canton"), "canton_candidates": N_("canton_candidates"),
    "points": N_("points"), "tags": N_("tags"), "fields": N_("fields"), "consents": N_("consents"),
    "consent_history": N_("consent_history"), "sources": N_("sources"), "identities": N_("identities"),
    "kind": N_("kind"), "value": N_("value"), "status": N_("status"), "channel": N_("channel"),
    "at": N_("at"), "source": N_("source"), "action": N_("action"), "detail": N_("detail"),
    "wording": N_("wording"), "import_id": N_("import_id"), "file": N_("file"), "row": N_("row"),
    "imported_at": N_("imported_at"), "network": N_("network"), "account_id": N_("account_id"),
    "handle": N_("handle"), "display_name": N_("display_name"), "profile_url": N_("profile_url"),
}
GEO_STATUSES = {"resolved": N_("resolved"), "ambiguous": N_("ambiguous"), "unknown": N_("unknown"),
                "missing": N_("missing")}
POINT_STATUSES = {"valid": N_("valid"), "invalid": N_("invalid"), "bounced": N_("bounced")}
# What an action's sheets are (walk lists, call lists, attendance lists).
SHEETS = {"walk": NC_("sheet", "walk"), "call": NC_("sheet", "call"), "list": NC_("sheet", "list")}
YES_NO = {True: N_("yes"), False: N_("no"), "yes": N_("yes"), "no": N_("no")}
CHANNELS = {"sms": N_("SMS"), "email": N_("e-mail")}

KINDS = {"campaign": CAMPAIGN_STATUSES, "state": MESSAGE_STATES, "due": DUE_REASONS, "yes_no": YES_NO,
         "channel": CHANNELS, "reason": SKIP_REASONS, "action": ACTION_STATUSES, "consent": CONSENT_STATUSES,
         "consent_action": CONSENT_ACTIONS, "retention_rule": RETENTION_RULES, "origin": ORIGINS,
         "import_kind": IMPORT_KINDS, "sheet": SHEETS, "geo_status": GEO_STATUSES,
         "point_status": POINT_STATUSES}


def shown(kind: str, value) -> str:
    """``value`` (a stored code) as people read it: ``shown("campaign", "done")`` -> "terminée"."""
    if value is None:
        return ""
    label = KINDS[kind].get(value)
    if not label:
        return str(value)
    return pgettext(*label) if isinstance(label, tuple) else _(label)


def campaign_status(value) -> str:
    return shown("campaign", value)


def yes_no(value) -> str:
    return shown("yes_no", bool(value) if not isinstance(value, str) else value)


# Which code table says a value of ``dbox contacts show``, by the key (and, in lists, the list's key).
# (Channels and address kinds stay as stored: "sms", "email" read the same in both languages.)
CONTACT_CODES = {"geo_status": "geo_status", ("points", "status"): "point_status", ("consents", "status"): "consent",
                 ("consent_history", "action"): "consent_action"}


def contact_key(key: str) -> str:
    """A key of ``dbox contacts show`` as people read it (a custom field's name stays as it is)."""
    label = CONTACT_KEYS.get(key)
    return _(label) if label else key


def contact_value(key, value) -> str:
    """A value of ``dbox contacts show``: codes in the user's language, the rest as stored."""
    kind = CONTACT_CODES.get(key)
    return shown(kind, value) if kind else str(value)
