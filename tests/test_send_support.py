"""Shared pieces of the sending tests: contacts imported through the real import pipeline, the
local Twilio server reached by the real twilio client, a real SMTP server (aiosmtpd)."""

import threading
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from dbox.config import update_section
from dbox.testing.twilio_server import DEFAULT_SID, DEFAULT_TOKEN, TwilioServer

HEADER = "Prénom;Nom;Portable;Courriel;Code postal;Commune;Accord SMS;Accord email;Profession"


def import_contacts(store, folder: Path, rows: list[dict], name: str = "contacts.csv"):
    """rows: dicts with first, last, mobile, email, cp, commune, sms, mail, job (all optional)."""
    from dbox.importing.pipeline import ImportOptions, import_file

    lines = [HEADER]
    for r in rows:
        lines.append(";".join([r.get("first", ""), r.get("last", ""), r.get("mobile", ""), r.get("email", ""),
                               r.get("cp", "38000"), r.get("commune", "Grenoble"), r.get("sms", ""),
                               r.get("mail", ""), r.get("job", "")]))
    path = Path(folder) / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(store, path, ImportOptions(force=True))
    return report


# ``store`` and ``template_store`` live in conftest.py now (every module has them); the names stay
# importable from here for the modules that import them.
from conftest import store, template_store  # noqa: E402,F401


def share_number(store, number: str, first: str = "Autre", last: str = "Personne") -> int:
    """A second contact holding the same mobile (a family phone): the import would merge them, so
    this state is made directly."""
    now = "2026-01-01T00:00:00Z"
    cid = store.execute("INSERT INTO contacts (first_name, last_name, mobile, phone_region, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,?) RETURNING id", (first, last, number, "FR", now, now)).fetchone()[0]
    store.execute("INSERT INTO contact_points (contact_id, kind, value) VALUES (?, 'mobile', ?)", (cid, number))
    from dbox.store.contacts_write import record_consent_events

    record_consent_events(store, [(cid, "sms", "grant", now, "manual", "test")])
    return cid


def mobile(i: int) -> str:
    return f"+3361{i:07d}"


def people(n: int, *, sms="oui", mail="oui", start: int = 0) -> list[dict]:
    return [{"first": f"Prénom{i}", "last": f"Nom{i}", "mobile": f"061{i:07d}", "email": f"p{i}@example.org",
             "sms": sms, "mail": mail} for i in range(start, start + n)]


def contact_id(store, number: str) -> int:
    return store.execute("SELECT id FROM contacts WHERE mobile = ?", (number,)).fetchone()[0]


@contextmanager
def twilio_server(monkeypatch):
    """The rehearsal Twilio server, and the sms channel configured to use it (quiet hours off)."""
    with TwilioServer(delivery_delay=0) as server:
        monkeypatch.setenv("DBOX_TWILIO_ACCOUNT_SID", DEFAULT_SID)
        monkeypatch.setenv("DBOX_TWILIO_AUTH_TOKEN", DEFAULT_TOKEN)
        monkeypatch.setenv("DBOX_TWILIO_SENDER", "MonParti")
        monkeypatch.setenv("DBOX_TWILIO_BASE_URL", server.base_url)
        update_section("channels.sms", {"optout_mention": "STOP au 36173", "quiet_hours": False,
                                        "price_per_segment": 0.05})
        yield server


@pytest.fixture
def twilio(monkeypatch):
    """The rehearsal Twilio server, and the sms channel configured to use it (quiet hours off)."""
    with twilio_server(monkeypatch) as server:
        yield server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message it accepts; can refuse or hang up on demand."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refuse_rcpt: dict[str, str] = {}     # address -> SMTP reply
        self.data_reply: list[str] = []           # next DATA replies to use instead of 250

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_reply:
                return self.data_reply.pop(0)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  message_from_bytes(envelope.content, policy=policy.default), session.peer))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for _f, rcpt, m, _p in self.messages if address in rcpt]


@pytest.fixture
def smtp(monkeypatch):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        update_section("channels.email", {"host": "127.0.0.1", "port": port, "security": "none",
                                          "from_address": "equipe@monparti.example", "from_name": "Mon Parti",
                                          "unsubscribe_mailto": "desinscription@monparti.example",
                                          "unsubscribe_url": "https://monparti.example/desinscription?t={token}"})
        inbox.port = port
        yield inbox
    finally:
        controller.stop()
