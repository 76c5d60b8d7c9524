"""Sending against a real SMTP server (aiosmtpd) that answers per recipient: international
addresses with and without SMTPUTF8, bounces at RCPT and DATA, recipients refused for now (4xx)
left for later runs for a bounded time, a channel failing on one message. docs/sending.md."""

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from test_send_support import free_port, import_contacts, people, store, template_store  # noqa: F401

from dbox.channels import hookimpl, plugins
from dbox.channels.base import Channel, ComposeRules, Sender, SendResult
from dbox.config import update_section
from dbox.sending import service
from dbox.store import ledger


class PerRecipient:
    """aiosmtpd handler: ``rcpt[address]`` / ``data[address]`` are lists of replies used in turn
    (the last one repeats); everyone else is accepted."""

    def __init__(self):
        self.rcpt: dict[str, list[str]] = {}
        self.data: dict[str, list[str]] = {}
        self.mail: list[str] = []
        self.accepted: list[tuple[str, list[str], object]] = []
        self.tries: dict[str, int] = {}

    @staticmethod
    def _next(replies: list[str]) -> str:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail:
            return self._next(self.mail)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tries[address] = self.tries.get(address, 0) + 1
        if address in self.rcpt:
            return self._next(self.rcpt[address])
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        to = envelope.rcpt_tos[0]
        if to in self.data:
            return self._next(self.data[to])
        self.accepted.append((to, list(envelope.mail_options),
                              message_from_bytes(envelope.original_content, policy=policy.SMTPUTF8)))
        return "250 Message accepted for delivery"

    def sent_to(self) -> list[str]:
        return sorted(to for to, _o, _m in self.accepted)


@pytest.fixture
def server(request):
    """A real SMTP server on 127.0.0.1; ``@pytest.mark.parametrize('server', [True, False],
    indirect=True)`` chooses whether it offers SMTPUTF8."""
    from aiosmtpd.controller import Controller

    utf8 = getattr(request, "param", True)
    handler = PerRecipient()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=utf8)
    controller.start()
    update_section("channels.email", {"host": "127.0.0.1", "port": port, "security": "none",
                                      "from_address": "equipe@monparti.example", "from_name": "Mon Parti",
                                      "unsubscribe_mailto": "desinscription@monparti.example",
                                      "unsubscribe_url": "https://monparti.example/d?t={token}"})
    try:
        yield handler
    finally:
        controller.stop()


class Clock:
    def __init__(self, start="2026-12-01T10:00:00"):
        self.now = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)

    def __call__(self):
        return self.now


class Sleeper:
    """Records the waits between tries instead of sleeping."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return False


INTERNATIONAL = [{"first": "Louise", "email": "louise.œuvray@free.fr", "mail": "oui"},
                 {"first": "André", "email": "andré@exämple.fr", "mail": "oui"},
                 {"first": "Marie", "email": "marie@exämple.fr", "mail": "oui"},
                 {"first": "Paul", "email": "paul@example.org", "mail": "oui"}]


def _send(store, clock=None, sleep=None, expression=""):
    from dbox.sending.audience import resolve
    from dbox.sending.compose import Template

    request = service.SendRequest("email", resolve(store, expression, None, None),
                                  Template(body="Bonjour {{ first_name }}", subject="Réunion"), workers=1)
    plan = service.plan_send(store, request, clock=clock or Clock())
    return service.start(store, plan, clock=clock or Clock(), sleep=sleep or Sleeper())


def _states(store, campaign_id=1) -> dict[str, tuple]:
    return {address: (state, reason, error) for address, state, reason, error in store.execute(
        "SELECT address, state, reason, error FROM campaign_recipients WHERE campaign_id = ?", (campaign_id,))}


@pytest.mark.parametrize("server", [True], indirect=True)
def test_international_addresses_with_smtputf8(store, tmp_path, server, cli):
    import_contacts(store, tmp_path, INTERNATIONAL)
    result = cli("send", "--email", "--subject", "Réunion", "-m", "Bonjour {{ first_name }}", "--yes")
    assert result.exit_code == 0, result.output
    assert "4 sent, 0 failed" in result.output
    # the domain alone non-ASCII goes as IDNA, without SMTPUTF8; a non-ASCII local part needs it
    assert server.sent_to() == sorted(["louise.œuvray@free.fr", "andré@exämple.fr",
                                       "marie@xn--exmple-cua.fr", "paul@example.org"])
    options = {to: opts for to, opts, _m in server.accepted}
    assert "SMTPUTF8" in options["louise.œuvray@free.fr"] and "SMTPUTF8" in options["andré@exämple.fr"]
    assert "SMTPUTF8" not in options["marie@xn--exmple-cua.fr"] and options["paul@example.org"] == []
    louise = next(m for to, _o, m in server.accepted if to.startswith("louise"))
    assert louise["To"] == "louise.œuvray@free.fr" and louise["Subject"] == "Réunion"
    assert "Bonjour Louise" in louise.get_body(("plain",)).get_content()


@pytest.mark.parametrize("server", [False], indirect=True)
def test_without_smtputf8_those_recipients_fail_and_the_campaign_goes_on(store, tmp_path, server, cli):
    import_contacts(store, tmp_path, INTERNATIONAL + people(60))
    result = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
    assert result.exit_code == 0, result.output
    assert "62 sent, 2 failed, 0 skipped at send time, 0 in doubt, 0 left (done)" in result.output
    states = _states(store)
    for address in ("louise.œuvray@free.fr", "andré@exämple.fr"):
        state, reason, error = states[address]
        assert state == "failed" and reason == "smtputf8" and "address not supported by the server" in error
    assert states["marie@exämple.fr"][0] == "accepted"
    assert "marie@xn--exmple-cua.fr" in server.sent_to()
    # not a bounce: the address stays reachable for a server that takes it
    assert ledger.count_state(store, 1, "in-doubt") == 0
    counts = ledger.audience_counts(store, ledger.Reach("email", "email"), "1")
    assert counts["planned"] == 64


def test_hard_bounce_at_rcpt_suppresses_and_later_campaigns_exclude_it(store, tmp_path, server, cli):
    import_contacts(store, tmp_path, people(3))
    server.rcpt["p1@example.org"] = ["550 5.1.1 No such user"]
    result = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
    assert result.exit_code == 0, result.output
    assert "2 sent, 1 failed" in result.output
    assert _states(store)["p1@example.org"][:2] == ("failed", "550")
    preview = cli("send", "--email", "--subject", "Autre", "-m", "Autre", "--dry-run")
    assert "recipients: 2" in preview.output
    assert "bounced (address refused by its server)" in preview.output
    again = cli("send", "--email", "--subject", "Autre", "-m", "Autre", "--yes")
    assert again.exit_code == 0 and "2 sent" in again.output
    assert server.tries["p1@example.org"] == 1
    assert ledger.reason_counts(store, 2) == {"bounced": 1}


def test_data_answers_bounce_or_not_by_their_class(store, tmp_path, server):
    import_contacts(store, tmp_path, people(3))
    server.data["p0@example.org"] = ["550 5.1.1 Mailbox unavailable"]
    server.data["p1@example.org"] = ["554 5.7.1 Message refused as spam"]
    _cid, report = _send(store)
    assert report.accepted == 1 and report.failed == 2
    counts = ledger.audience_counts(store, ledger.Reach("email", "email"), "1")
    assert counts.get("bounced") == 1 and counts["planned"] == 2     # policy refusal: address kept


def test_mailbox_full_is_retried_then_left_for_later_then_failed(store, tmp_path, server):
    import_contacts(store, tmp_path, people(5))
    server.rcpt["p2@example.org"] = ["452 4.2.2 Mailbox full"]
    clock, sleeper = Clock(), Sleeper()
    cid, report = _send(store, clock, sleeper)
    # the others went; p2 was tried 3 times in the run (with backoff), then left for later
    assert report.accepted == 4 and report.failed == 0 and report.deferred == 1 and report.left == 1
    assert server.tries["p2@example.org"] == 3 and len(sleeper.waits) == 2
    assert sleeper.waits[1] > sleeper.waits[0] * 1.2                    # backoff grows
    assert report.status == "waiting" and report.stop_reason is None
    campaign = ledger.get_campaign(store, cid)
    assert campaign.status == "waiting" and campaign.due_at == "2026-12-01T10:30:00Z"
    assert service.provider_failure(cid, report) is None              # exit 0: the run did its work
    # run-due before it is due: nothing; after: tried again, still refused, left again
    assert service.run_due(store, clock=clock, sleep=sleeper) == []
    clock.now += timedelta(minutes=31)
    [(rid, again)] = service.run_due(store, clock=clock, sleep=sleeper)
    assert rid == cid and again.deferred == 1 and server.tries["p2@example.org"] == 6
    # three days after the first refusal: failed, the campaign is done
    clock.now += timedelta(days=3)
    [(_rid, last)] = service.run_due(store, clock=clock, sleep=sleeper)
    assert last.failed == 1 and last.status == "done"
    state, reason, error = _states(store)["p2@example.org"]
    assert state == "failed" and reason == "452" and "still refused since 2026-12-01T10:00:00Z" in error
    assert sorted(server.sent_to()) == [f"p{i}@example.org" for i in (0, 1, 3, 4)]


def test_soft_refusal_that_clears_is_sent_in_a_later_run(store, tmp_path, server):
    import_contacts(store, tmp_path, people(2))
    server.rcpt["p0@example.org"] = ["451 4.7.1 Greylisted"] * 3 + ["250 OK"]
    clock = Clock()
    cid, report = _send(store, clock)
    assert report.deferred == 1
    del server.rcpt["p0@example.org"]
    clock.now += timedelta(hours=1)
    [(_cid, again)] = service.run_due(store, clock=clock, sleep=Sleeper())
    assert again.accepted == 1 and again.status == "done"
    assert server.sent_to() == ["p0@example.org", "p1@example.org"]


def test_soft_limits_come_from_the_config(store, tmp_path, server):
    update_section("sending", {"soft_attempts": 1, "soft_retry_minutes": 5, "soft_days": 1})
    import_contacts(store, tmp_path, people(1))
    server.rcpt["p0@example.org"] = ["452 4.2.2 Mailbox full"]
    cid, report = _send(store)
    assert server.tries["p0@example.org"] == 1 and report.deferred == 1
    assert ledger.get_campaign(store, cid).due_at == "2026-12-01T10:05:00Z"


def test_sender_refused_stops_the_run_with_exit_6(store, tmp_path, server, cli):
    import_contacts(store, tmp_path, people(2))
    server.mail = ["553 5.7.1 Sender address rejected"]
    result = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
    assert result.exit_code == 6
    assert "Sender address rejected" in result.output
    assert ledger.state_counts(store, 1)["planned"] == 2


class Flaky(Sender):
    def __init__(self, outbox):
        self.outbox = outbox

    def send(self, message):
        if message.to == "+33610000001":
            raise RuntimeError("the plugin tripped on this one")
        self.outbox.append(message.to)
        return SendResult("accepted", provider_id=f"f{len(self.outbox)}")


class FlakyChannel(Channel):
    id = "flaky"
    title = "A plugin that raises for one message"
    consent_channel = "sms"
    address_kind = "mobile"
    default_rate = "1000/s"

    def __init__(self):
        self.outbox = []

    def compose_rules(self, settings):
        return ComposeRules(kind="text")

    def connect(self, settings):
        return Flaky(self.outbox)


class FlakyPlugin:
    def __init__(self):
        self.channel = FlakyChannel()

    @hookimpl
    def register_channels(self, register):
        register(self.channel)


def test_an_exception_for_one_message_never_stops_the_run(store, tmp_path, cli):
    plugin = FlakyPlugin()
    pm = plugins.plugin_manager()
    pm.register(plugin, name="flaky-test")
    try:
        import_contacts(store, tmp_path, people(4))
        result = cli("send", "--channel", "flaky", "-m", "Salut", "--yes", "--workers", "1")
        assert result.exit_code == 0, result.output
        assert "3 sent, 0 failed, 0 skipped at send time, 1 in doubt, 0 left (done)" in result.output
        assert sorted(plugin.channel.outbox) == ["+33610000000", "+33610000002", "+33610000003"]
        state, _reason, error = _states(store)["+33610000001"]
        assert state == "in-doubt" and "RuntimeError in the channel" in error
    finally:
        pm.unregister(name="flaky-test")
