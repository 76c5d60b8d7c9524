"""A sign-up form's submission, and the e-mail confirmation it asks for (double opt-in).

Rules (docs/serve.md, "Sign-up forms"):

- Each value is checked with the normalization every import uses (``dbox.normalize``), so the page
  can say which field is wrong; then the row goes through the import itself
  (:func:`dbox.importing.pipeline.import_rows`): the same dedupe (same e-mail, same mobile, same
  name and postal code), the same suppression list (an erased or opposed person is not added back)
  and the same consent rules (a consent never lifts a withdrawal or a refusal).
- Each consent ticked is recorded with the exact wording shown beside its box, source ``form``.
- E-mail is double opt-in: the submission records a confirmation and a link is mailed through
  the e-mail channel's SMTP settings; the e-mail consent is recorded only when the link is used
  (``confirm``). Until then the contact is not reachable by e-mail. No link goes to an address
  whose contact withdrew e-mail consent or that opted out.
- The page answers the same to everyone whatever happened (suppressed, merged, added): a form
  must not tell a stranger who is in the address book.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dbox.errors import DboxError, InputError
from dbox.i18n import _, N_
from dbox.forms.definitions import CONSENT_NEEDS, FIELDS, SignupForm
from dbox.importing.pipeline import ImportOptions, import_rows
from dbox.masking import mask
from dbox.normalize import ValueRejected, normalize_field, phone_region_for_postal_code
from dbox.privacy import audit
from dbox.privacy.consent import blocked, grant, state
from dbox.store import forms as sf
from dbox.store.db import Store, utcnow
from dbox.channels.base import OutgoingMessage
from dbox.channels.plugins import get_channel

MAX_VALUE = 200              # characters a field may hold
CONFIRM_DAYS = 7             # a confirmation link works this long
RESEND_MINUTES = 15          # a second submission within this does not mail the address again


@dataclass
class PendingMail:
    """A confirmation to mail once the submission has committed."""

    confirmation_id: int
    email: str
    token: str


@dataclass
class Outcome:
    status: str                                   # recorded | invalid
    errors: dict[str, str] = field(default_factory=dict)     # field -> English msgid (with %(x)s values)
    contact_id: int | None = None
    suppressed: bool = False
    consents: list[str] = field(default_factory=list)        # recorded now
    not_restored: list[str] = field(default_factory=list)    # withdrawn before: kept withdrawn
    mail: PendingMail | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check(form: SignupForm, values: dict[str, str], ticked) -> tuple[dict[str, str], dict[str, str]]:
    """(cleaned values, errors by field). A message is an English msgid for ``dbox.i18n._``."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    region = "FR"
    postal = (values.get("postal_code") or "").strip()
    if postal:
        try:
            region = phone_region_for_postal_code(normalize_field("postal_code", postal))
        except ValueRejected:
            pass
    for name in form.fields:
        value = " ".join(str(values.get(name) or "").split())
        if len(value) > MAX_VALUE:
            errors[name] = N_("This is too long.")
            continue
        if not value:
            if name in form.required:
                errors[name] = N_("Please fill this in.")
            continue
        try:
            normalized = normalize_field(name, value, region)
        except ValueRejected:
            errors[name] = {"email": N_("This is not a valid e-mail address."),
                            "mobile": N_("This is not a valid phone number."),
                            "postal_code": N_("This is not a valid postal code.")}.get(name, N_("This value is not valid."))
            continue
        if name == "mobile" and normalized.kind != "mobile" and "sms" in ticked:
            errors[name] = N_("Text messages need a mobile number.")
            continue
        clean[name] = value
    reach = [n for n in ("email", "mobile") if n in form.fields]
    if not any(clean.get(n) for n in reach) and not any(n in errors for n in reach):
        errors[reach[0]] = (N_("Please give your e-mail or your mobile.") if len(reach) == 2 else N_("Please fill this in."))
    for channel in ticked:
        need = CONSENT_NEEDS.get(channel)
        if channel in form.consents and need and not clean.get(need) and need not in errors:
            errors[need] = N_("Please fill this in to receive these messages.")
    return clean, errors


def submit(store: Store, form: SignupForm, values: dict[str, str], ticked, *, index=None,
           page_url: str = "") -> Outcome:
    """Record one submission (one transaction); the confirmation mail, if any, is sent by the
    caller after it returns (``send_confirmation``)."""
    if not form.active:
        raise InputError(_("form {slug} is disabled").format(slug=form.slug))
    ticked = [c for c in dict.fromkeys(ticked or ()) if c in form.consents]
    clean, errors = check(form, values, ticked)
    if errors:
        return Outcome("invalid", errors)
    outcome = Outcome("recorded")
    fields = [f for f in form.fields if f in FIELDS]
    cells = [clean.get(f, "") for f in fields]
    if form.tags:
        fields.append("tags")
        cells.append("|".join(form.tags))
    direct = tuple(c for c in ticked if c != "email")
    where = f"formulaire « {form.title} »" + (f" ({page_url})" if page_url else f" (form {form.slug})")
    options = ImportOptions(consent=direct, consent_source=where if direct else None,
                            consent_wording={c: form.consents[c] for c in direct}, consent_event_source="form")
    now = utcnow()
    with store.transaction(immediate=True):
        report = import_rows(store, form.source_name, fields, [cells], options, index=index, transaction=False)
        contact_id = report.contacts.get(1)
        outcome.contact_id = contact_id
        outcome.suppressed = bool(report.counts["suppressed"])
        if contact_id is not None:
            if report.counts["consent_not_restored"]:
                outcome.not_restored = [c for c in direct if blocked(store, contact_id, c)]
            outcome.consents = [c for c in direct if c not in outcome.not_restored]
            if "email" in ticked and clean.get("email"):
                outcome.mail = _ask_confirmation(store, form, contact_id, normalize_field("email", clean["email"]),
                                                 now, outcome)
        sf.count_submission(store, form.id)
        audit.record(store, "forms submit", 1 if contact_id else 0,
                     {"form": form.slug, "added": report.counts["added"], "merged": report.counts["merged"],
                      "suppressed": report.counts["suppressed"], "consents": outcome.consents,
                      "confirmation": outcome.mail is not None})
    return outcome


def _ask_confirmation(store: Store, form: SignupForm, contact_id: int, email: str, now: str,
                      outcome: Outcome) -> PendingMail | None:
    if state(store, contact_id)["current"]["email"]["status"] == "granted":
        return None                       # already reachable by e-mail: nothing to confirm
    if blocked(store, contact_id, "email"):
        outcome.not_restored.append("email")
        return None
    pending = sf.pending_confirmation(store, contact_id, email, now)
    if pending and pending[1] and pending[1] > _iso(_parse(now) - timedelta(minutes=RESEND_MINUTES)):
        return None                       # mailed a moment ago: one mail, not one per click
    token = secrets.token_urlsafe(24)
    expires = _iso(_parse(now) + timedelta(days=CONFIRM_DAYS))
    confirmation_id = sf.insert_confirmation(store, token_hash(token), contact_id, email, form.id,
                                             form.consents["email"], now, expires)
    return PendingMail(confirmation_id, email, token)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the confirmation mail --------------------------------------------------------------------------------

def confirmation_text(form: SignupForm, link: str) -> tuple[str, str]:
    """(subject, body) of the confirmation mail, in the server's language."""
    subject = _("Please confirm your e-mail address — {title}").format(title=form.title)
    body = _("Hello,\n\nYou signed up on « {title} » and agreed to:\n\n  {wording}\n\nTo confirm this e-mail "
             "address, open this link (it works for {days} days):\n\n{link}\n\nIf you did not sign up, ignore this "
             "message: you will receive nothing more.\n")
    return subject, body.format(title=form.title, wording=form.consents["email"], days=CONFIRM_DAYS, link=link)


def send_confirmation(store: Store, form: SignupForm, mail: PendingMail, base_url: str) -> bool:
    """Mail the confirmation link through the e-mail channel's SMTP settings; True once the server
    accepted it. A failure leaves the confirmation unsent (``dbox forms show`` counts them); the
    address is never logged whole."""
    import logging

    log = logging.getLogger("dbox.serve")
    link = f"{base_url.rstrip('/')}/f/confirm/{mail.token}"
    subject, body = confirmation_text(form, link)
    try:
        channel = get_channel("email")
        settings = channel.settings()
        channel.check(settings)
        domain = str(settings["from_address"]).rpartition("@")[2] or "dbox"
        message = OutgoingMessage(to=mail.email, body=body, subject=subject,
                                  message_id=f"<dbox-confirm-{mail.confirmation_id}-{token_hash(mail.token)[:16]}@{domain}>",
                                  headers={"Auto-Submitted": "auto-generated"})
        with channel.connect(settings) as sender:
            result = sender.send(message)
    except (DboxError, OSError) as exc:
        log.warning('{"event": "confirmation-not-sent", "to": "%s", "error": "%s"}', mask(mail.email),
                    type(exc).__name__)
        return False
    if result.outcome != "accepted":
        log.warning('{"event": "confirmation-not-sent", "to": "%s", "outcome": "%s"}', mask(mail.email), result.outcome)
        return False
    with store.transaction(immediate=True):
        sf.confirmation_sent(store, mail.confirmation_id, utcnow())
    return True


# -- confirming ----------------------------------------------------------------------------------------------

def lookup(store: Store, token: str) -> dict | None:
    """The confirmation a link names, with its state: 'pending', 'confirmed', 'expired'; None: unknown."""
    if not token or len(token) > 100:
        return None
    row = sf.confirmation_by_hash(store, token_hash(token))
    if row is None:
        return None
    row["state"] = "confirmed" if row["confirmed_at"] else "expired" if row["expires_at"] <= utcnow() else "pending"
    return row


def confirm(store: Store, token: str) -> str:
    """Use a confirmation link: 'confirmed' (the e-mail consent is recorded with the form's wording,
    source ``form``), 'already', 'expired', 'unknown', or 'not-restored' (the person withdrew e-mail
    consent or opted out since: only ``dbox consent grant --renewed`` lifts that)."""
    row = lookup(store, token)
    if row is None:
        return "unknown"
    if row["state"] == "confirmed":
        return "already"
    if row["state"] == "expired":
        return "expired"
    if blocked(store, row["contact_id"], "email"):
        return "not-restored"
    try:
        grant(store, row["contact_id"], "email", source="form", wording=row["wording"])
    except InputError:
        return "not-restored"
    with store.transaction(immediate=True):
        sf.mark_confirmed(store, row["id"], utcnow())
        audit.record(store, "forms confirm", 1, {"form_id": row["form_id"]})
    return "confirmed"
