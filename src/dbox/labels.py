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
# What an action's sheets are (walk lists, call lists, attendance lists).
SHEETS = {"walk": NC_("sheet", "walk"), "call": NC_("sheet", "call"), "list": NC_("sheet", "list")}
YES_NO = {True: N_("yes"), False: N_("no"), "yes": N_("yes"), "no": N_("no")}
CHANNELS = {"sms": N_("SMS"), "email": N_("e-mail")}

KINDS = {"campaign": CAMPAIGN_STATUSES, "state": MESSAGE_STATES, "due": DUE_REASONS, "yes_no": YES_NO,
         "channel": CHANNELS, "reason": SKIP_REASONS, "action": ACTION_STATUSES, "consent": CONSENT_STATUSES,
         "consent_action": CONSENT_ACTIONS, "retention_rule": RETENTION_RULES, "origin": ORIGINS,
         "import_kind": IMPORT_KINDS, "sheet": SHEETS}


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
