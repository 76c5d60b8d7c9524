"""Composing messages: a template in Jinja2's sandbox, checked before anything is sent, then the
channel's rules (SMS: sender named, opt-out mention, segments; e-mail: unsubscribe link and
headers, deterministic Message-ID).

Template fields: ``civility``, ``first_name``, ``last_name``, ``commune``, ``postal_code``,
``departement``, ``circonscription``, ``email``, ``mobile``, ``fields.<custom field>``, and for
e-mail ``unsubscribe_url``. A field the store does not have (a typo) is an error before anything
is sent; a field that is empty for one contact renders empty, or as its ``default(...)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from dbox.errors import InputError
from dbox.store.ledger import CONTACT_FIELDS, UNSUBSCRIBE_FIELD
from dbox.i18n import _
from dbox.privacy.unsubscribe import token_for, verify
from dbox.sending.bounded import check_template, make_environment, render
from dbox.sending.sms_parts import count, to_gsm

_MENTION = re.compile(r"\bSTOP\s+(?:SMS\s+)?(?:au|AU|Au|:)\s*\d{5}\b")


@dataclass
class Template:
    body: str
    subject: str | None = None
    html: str | None = None
    gsm: bool = False          # SMS: characters outside GSM-7 replaced (--gsm, sms_parts.to_gsm)

    def as_dict(self) -> dict:
        data = {"body": self.body, "subject": self.subject, "html": self.html}
        if self.gsm:           # only when set: campaigns made before keep their fingerprint
            data["gsm"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Template":
        return cls(data["body"], data.get("subject"), data.get("html"), bool(data.get("gsm")))


def _read(path: Path, what: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(_("{path}: cannot read the {what}: {strerror}").format(
                             path=path, what=what, strerror=exc.strerror)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(_("{path}: the {what} is not UTF-8 (byte {start})").format(
                             path=path, what=what, start=exc.start),
                         hint=_("save it as UTF-8")) from None


def load_template(kind: str, message: str | None, template: Path | None, subject: str | None = None,
                  html: Path | None = None) -> Template:
    """From ``--message`` or ``--template FILE``; for e-mail a first line ``Subject: ...`` followed
    by a blank line sets the subject (unless ``--subject``), and ``--html FILE`` adds an HTML part."""
    if (message is None) == (template is None):
        raise InputError(_("give the text with --message TEXT or --template FILE (one of them)"))
    body = message if message is not None else _read(template, "template")
    if kind == "email":
        m = re.match(r"\s*Subject:[ \t]*(.*?)\r?\n(?:\r?\n)?", body, re.IGNORECASE)
        if m:
            subject = subject or m.group(1).strip()
            body = body[m.end():]
        if not subject:
            raise InputError(_('an e-mail needs a subject: --subject TEXT, or a first line "Subject: ..." in the template'))
        html_text = _read(html, "HTML part") if html else None
        return Template(body, subject, html_text)
    if html or subject:
        raise InputError(_("--subject and --html are for e-mail only"))
    return Template(body)


@dataclass
class Rendered:
    body: str
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    segments: int | None = None
    encoding: str | None = None
    gsm_segments: int | None = None    # UCS-2: what it would cost with --gsm


class Composer:
    """Compiles a template once, checks its fields against the store, renders per contact."""

    def __init__(self, template: Template, rules, *, custom_fields: set[str], campaign_uid: str = "preview",
                 unsubscribe_key: str | None = None, from_address: str | None = None,
                 max_length: int | None = None):
        from jinja2 import TemplateSyntaxError

        ChainableUndefined = _undefined_class()

        self.template = template
        self.rules = rules
        self.campaign_uid = campaign_uid
        self.unsubscribe_key = unsubscribe_key or ""
        self.domain = (from_address or "dbox.invalid").rsplit("@", 1)[-1]
        self.max_length = max_length
        self.custom_needed: set[str] = set()
        self.fields_needed: set[str] = set()
        allowed = set(CONTACT_FIELDS) | {"fields"} | ({"unsubscribe_url"} if rules.kind == "email" else set())
        text_env = make_environment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False)
        html_env = make_environment(undefined=ChainableUndefined, autoescape=True)
        self.uses_unsubscribe = False
        self.compiled = {}
        if rules.kind == "post":           # published as written: no contact, no fields, no template
            return
        for part, text, env in (("message", template.body, text_env), ("subject", template.subject, text_env),
                                ("HTML part", template.html, html_env)):
            if text is None:
                continue
            try:
                ast = env.parse(text)
            except TemplateSyntaxError as exc:
                raise InputError(_("{part}, line {lineno}: template error: {message}").format(
                                     part=part, lineno=exc.lineno, message=exc.message)) from None
            check_template(part, ast)          # bounded: no loops, calls, includes (dbox.sending.bounded)
            self._check(part, ast, allowed, custom_fields)
            self.compiled[part] = env.from_string(text)
        if rules.kind == "email":
            self.fields_needed.add(UNSUBSCRIBE_FIELD)     # the token's identifier, read with the fields

    def _check(self, part: str, ast, allowed: set[str], custom_fields: set[str]) -> None:
        from jinja2 import meta, nodes

        unknown = sorted(meta.find_undeclared_variables(ast) - allowed)
        if unknown:
            name = unknown[0]
            line = next((n.lineno for n in ast.find_all(nodes.Name) if n.name == name), "?")
            raise InputError(_("{part}, line {line}: unknown field {{{{ {name} }}}}").format(
                                 part=part, line=line, name=name),
                             hint=_("fields: {items}, fields.<custom field>").format(
                                 items=", ".join(sorted(allowed - {"fields"}))))
        for node in ast.find_all(nodes.Name):
            if node.name in CONTACT_FIELDS:
                self.fields_needed.add(node.name)
            if node.name == "unsubscribe_url":
                self.uses_unsubscribe = True
        for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node.node, nodes.Name) and node.node.name == "fields":
                key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
                if not isinstance(key, str):
                    continue
                if key not in custom_fields:
                    known = ", ".join(sorted(custom_fields)) or "none in this store"
                    raise InputError(_("{part}, line {lineno}: unknown custom field fields.{key}").format(
                                         part=part, lineno=node.lineno, key=key),
                                     hint=_("custom fields: {known}").format(known=known))
                self.custom_needed.add(key)

    # -- per contact -----------------------------------------------------------------------------
    def token(self, uid: str) -> str:
        """The unsubscribe token of a contact's random identifier (not of its id: ids are reused)."""
        return token_for(self.unsubscribe_key, uid)

    def unsubscribe_url(self, token: str) -> str | None:
        base = self.rules.unsubscribe_url
        if not base:
            return None
        if "{token}" in base:
            return base.replace("{token}", token)
        return base + ("&" if "?" in base else "?") + "token=" + token

    def render(self, contact_id: int, address: str, values: dict, custom_json: str | None) -> Rendered:
        if self.rules.kind == "post":
            return Rendered(self.template.body, headers=dict(self.rules.headers))
        context = {k: v for k, v in values.items() if v not in (None, "") and k != UNSUBSCRIBE_FIELD}
        context["fields"] = {k: v for k, v in (json.loads(custom_json) if custom_json else {}).items()
                             if v not in (None, "")}
        token = None
        if self.rules.kind == "email":
            uid = values.get(UNSUBSCRIBE_FIELD)
            if not uid:
                raise InputError(_("contact {contact_id} has no unsubscribe identifier").format(
                                     contact_id=contact_id))
            token = self.token(uid)
            context["unsubscribe_url"] = self.unsubscribe_url(token)
        out = {part: render(part, tpl, context, contact_id) for part, tpl in self.compiled.items()}
        if self.rules.kind == "email":
            return self._finish_email(contact_id, token, out)
        return self._finish_text(contact_id, out["message"])

    def _finish_text(self, contact_id: int, body: str) -> Rendered:
        body = "\n".join(line.rstrip() for line in body.strip().splitlines())
        name = self.rules.sender_name
        if name and name.lower() not in body.lower():
            body = f"{name} : {body}"
        mention = self.rules.optout_mention
        if mention and not has_optout_mention(body, mention):
            body = f"{body}\n{mention}"
        if not body.strip():
            raise InputError(_("the message is empty for contact {contact_id}").format(contact_id=contact_id))
        if self.max_length and len(body) > self.max_length:
            raise InputError(_("the message for contact {contact_id} is {n} characters long; the channel accepts {max_length}").format(
                                 contact_id=contact_id, n=len(body), max_length=self.max_length))
        if self.template.gsm:
            body = to_gsm(body)
        parts = count(body)
        rendered = Rendered(body, segments=parts.segments, encoding=parts.encoding)
        if parts.encoding == "UCS-2":
            rendered.gsm_segments = count(to_gsm(body)).segments
        return rendered

    def _finish_email(self, contact_id: int, token: str, out: dict) -> Rendered:
        url = self.unsubscribe_url(token)
        body = out["message"]
        html = out.get("HTML part")
        subject = " ".join((out.get("subject") or "").split())
        if not subject:
            raise InputError(_("the subject is empty for contact {contact_id}").format(contact_id=contact_id))
        if url and not self.uses_unsubscribe:
            body = body.rstrip() + f"\n\n--\nPour ne plus recevoir nos messages : {url}\n"
            if html is not None:
                from markupsafe import escape

                link = f'<p style="font-size:small"><a href="{escape(url)}">Se désinscrire</a></p>'
                html = re.sub(r"(?i)</body>", link + "</body>", html, count=1) if re.search(r"(?i)</body>", html) \
                    else html + link
        headers = {}
        unsubscribe = []
        if self.rules.unsubscribe_mailto:
            unsubscribe.append(f"<mailto:{self.rules.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}>")
        if url:
            unsubscribe.append(f"<{url}>")
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if unsubscribe:
            headers["List-Unsubscribe"] = ", ".join(unsubscribe)
        return Rendered(body, subject=subject, html=html, headers=headers, message_id=self.message_id(contact_id))

    def message_id(self, contact_id: int) -> str:
        """Deterministic: the same campaign and contact always give the same Message-ID."""
        return f"<dbox.{self.campaign_uid}.{contact_id}@{self.domain}>"


def _undefined_class():
    """Empty for a field a contact lacks; an error for what the sandbox refuses (``__class__``...)."""
    from jinja2 import ChainableUndefined
    from jinja2.exceptions import SecurityError

    class Undefined(ChainableUndefined):
        __slots__ = ()

        def __str__(self) -> str:
            if isinstance(self._undefined_exception, type) and issubclass(self._undefined_exception, SecurityError):
                self._fail_with_undefined_error()
            return super().__str__()

    return Undefined


def has_optout_mention(body: str, mention: str) -> bool:
    squash = lambda s: " ".join(s.lower().split())  # noqa: E731
    return squash(mention) in squash(body) or bool(_MENTION.search(body))


def verify_token(store, token: str) -> int | None:
    """The contact id an unsubscribe token was made for, or None if it is not one of ours.

    The privacy side owns the check (the unsubscribe endpoint reads the same tokens)."""
    return verify(store, token)
