"""Sign-up forms: what a form asks, the consents it offers with the exact wording shown beside each
box, the tags it gives (``dbox forms create|list|show|disable``), and the snippet that embeds it
in the campaign's website."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from dbox.errors import InputError
from dbox.i18n import _, N_
from dbox.importing.pipeline import parse_consent_wording
from dbox.privacy import audit
from dbox.store import forms as sf
from dbox.store.db import Store, utcnow


@dataclass(frozen=True)
class FormField:
    name: str
    label: str              # English, marked N_: translated when the page is drawn
    input_type: str         # the <input type>
    autocomplete: str
    inputmode: str = ""


FIELDS = {f.name: f for f in (
    FormField("first_name", N_("First name"), "text", "given-name"),
    FormField("last_name", N_("Last name"), "text", "family-name"),
    FormField("email", N_("E-mail"), "email", "email", "email"),
    FormField("mobile", N_("Mobile phone"), "tel", "tel", "tel"),
    FormField("postal_code", N_("Postal code"), "text", "postal-code", "numeric"),
    FormField("commune", N_("Town"), "text", "address-level2"),
    FormField("address", N_("Street address"), "text", "street-address"),
)}
# The channels a form may ask consent for, and the field each one needs.
CONSENT_NEEDS = {"sms": "mobile", "email": "email", "phone": "mobile", "post": "address"}
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
RESERVED_SLUGS = {"confirm", "static"}
MAX_TITLE = 200


@dataclass
class SignupForm:
    id: int
    slug: str
    title: str
    intro: str | None
    fields: list[str]
    required: list[str]
    consents: dict[str, str]        # channel -> the exact wording shown beside its box
    tags: list[str]
    status: str
    submissions: int
    created_at: str
    updated_at: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def source_name(self) -> str:
        """How the contacts it brings name their source (``dbox privacy sources``)."""
        return f"form {self.slug}"


def _split(text: str | list[str] | None) -> list[str]:
    if text is None:
        return []
    parts = text if isinstance(text, list) else [text]
    return [p.strip() for part in parts for p in re.split(r"[,;]", part) if p.strip()]


def parse_fields(text) -> list[str]:
    fields = []
    for name in _split(text):
        key = name.lower().replace("-", "_")
        if key not in FIELDS:
            raise InputError(_("--fields: unknown field {name!r} (fields: {items})").format(
                                 name=name, items=', '.join(FIELDS)))
        if key not in fields:
            fields.append(key)
    if not fields:
        raise InputError(_("--fields: a form asks at least one field"), hint=_("e.g. --fields first_name,last_name,email"))
    if "email" not in fields and "mobile" not in fields:
        raise InputError(_("--fields: a form needs email or mobile (how else would the team reach the person?)"))
    return fields


def check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not _SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise InputError(_("form name {slug!r}: use lower-case letters, digits and dashes (at most 60), "
                           "e.g. benevoles-2026").format(slug=slug)
                         + (_("; {slug!r} is reserved").format(slug=slug) if slug in RESERVED_SLUGS else ""))
    return slug


def create(store: Store, slug: str, *, title: str, fields, consents=None, wording: list[str] | None = None,
           tags=None, required=None, intro: str | None = None) -> SignupForm:
    """Record a new form. Each consent offered needs its wording (``--wording "..."`` for all, or
    ``--wording "sms=..."`` per channel) and the field that reaches the person on that channel."""
    slug = check_slug(slug)
    title = " ".join((title or "").split())
    if not title:
        raise InputError(_("a form needs a title (--title)"))
    if len(title) > MAX_TITLE:
        raise InputError(_("--title is {n} characters long (at most {MAX_TITLE})").format(
                             n=len(title), MAX_TITLE=MAX_TITLE))
    fields = parse_fields(fields)
    channels = []
    for channel in _split(consents):
        key = channel.lower()
        if key not in CONSENT_NEEDS:
            raise InputError(_("--consent: unknown channel {channel!r} (channels: {items})").format(
                                 channel=channel, items=', '.join(CONSENT_NEEDS)))
        if CONSENT_NEEDS[key] not in fields:
            raise InputError(_("--consent {key}: the form does not ask for {CONSENT_NEEDS}").format(
                                 key=key, CONSENT_NEEDS=CONSENT_NEEDS[key]),
                             hint=_("add {CONSENT_NEEDS} to --fields").format(CONSENT_NEEDS=CONSENT_NEEDS[key]))
        if key not in channels:
            channels.append(key)
    given = parse_consent_wording(wording or [])
    unknown = [k for k in given if k != "*" and k not in channels]
    if unknown:
        raise InputError(_("--wording {unknown}=...: the form does not ask consent for {unknown}").format(
                             unknown=unknown[0]))
    texts = {}
    for channel in channels:
        text = given.get(channel) or given.get("*")
        if not text:
            raise InputError(_("--consent {channel}: no wording for it: a consent is recorded with the exact words shown beside its box").format(
                                 channel=channel), hint=_('add --wording "{channel}=J\'accepte de recevoir ..."').format(
                                                               channel=channel))
        texts[channel] = " ".join(text.split())
    required_fields = [f.lower() for f in _split(required)]
    for name in required_fields:
        if name not in fields:
            raise InputError(_("--required: {name!r} is not one of the form's fields ({items})").format(
                                 name=name, items=', '.join(fields)))
    tags = _split(tags)
    if sf.form_by_slug(store, slug) is not None:
        raise InputError(_("a form named {slug!r} exists already").format(slug=slug), hint=_("dbox forms list"))
    with store.transaction(immediate=True):
        sf.insert_form(store, {"slug": slug, "title": title, "intro": (intro or "").strip() or None,
                               "fields": fields, "required": required_fields, "consents": texts, "tags": tags}, utcnow())
        audit.record(store, "forms create", 0, {"form": slug})
    return get(store, slug)


def get(store: Store, slug: str) -> SignupForm:
    row = sf.form_by_slug(store, (slug or "").strip().lower())
    if row is None:
        raise InputError(_("no form named {slug!r}").format(slug=slug), hint=_("dbox forms list"))
    return SignupForm(**row)


def find_active(store: Store, slug: str) -> SignupForm | None:
    """The form a page shows, or None (unknown or disabled: the page answers 404)."""
    row = sf.form_by_slug(store, (slug or "").strip().lower())
    return SignupForm(**row) if row and row["status"] == "active" else None


def list_(store: Store) -> list[SignupForm]:
    return [SignupForm(**row) for row in sf.list_forms(store)]


def set_active(store: Store, form: SignupForm, active: bool) -> SignupForm:
    status = "active" if active else "disabled"
    if form.status != status:
        with store.transaction(immediate=True):
            sf.set_form_status(store, form.id, status, utcnow())
            audit.record(store, "forms enable" if active else "forms disable", 0, {"form": form.slug})
    return get(store, form.slug)


def confirmations(store: Store, form: SignupForm) -> dict[str, int]:
    return sf.form_confirmation_counts(store, form.id)


def page_url(base_url: str | None, form: SignupForm) -> str:
    return f"{(base_url or '').rstrip('/')}/f/{form.slug}"


def embed_snippet(base_url: str | None, form: SignupForm) -> str:
    """HTML to paste into the campaign's website: the form in an iframe, and a plain link for
    readers and pages that strip iframes. The form page works without JavaScript."""
    url = html.escape(page_url(base_url, form), quote=True)
    title = html.escape(form.title, quote=True)
    return (f'<iframe src="{url}" title="{title}" loading="lazy" '
            f'style="width:100%;max-width:40rem;min-height:44rem;border:0"></iframe>\n'
            f'<p><a href="{url}">{html.escape(form.title)}</a></p>')
