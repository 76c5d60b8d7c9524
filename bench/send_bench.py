"""Sending speed: `dbox send` (ledger, checks, rendering) against a bare loop of the same client
calls, in the same run, to the same local servers.

    .venv/bin/python bench/send_bench.py                 # 100,000 SMS and 100,000 e-mails
    .venv/bin/python bench/send_bench.py --count 20000 --channels sms

- SMS: the real twilio client against dbox.testing.twilio_server, run in its own process.
- E-mail: smtplib against an aiosmtpd server, run in its own process.
- The bare loop uses as many threads as dbox has workers, each with its own client/connection,
  and sends the same texts to the same numbers; dbox then sends its campaign (audience frozen,
  every message claimed and recorded in the ledger, consent re-checked, rendered with Jinja2).
- Memory: the process's resident size sampled every 0.2 s during dbox's send.

Prints messages/s for both and the ratio (aim: dbox within 10% of the bare loop), and the RSS.
For SMS also a third loop through dbox's HTTP client (the proxy/CA environment read once,
requests sent through requests' HTTP adapter directly, as dbox's sender does; docs/sending.md,
"Speed"): the ratio to it is what the ledger, checks and rendering cost on their own. And how many ledger writes shared a commit (group commit, dbox.sending.commits).
Also the CPU time this process spent (the servers run in their own processes): on a shared, loaded
box the wall-clock ratio moves with the neighbours' load, the CPU ratio much less.
Loopback only; every loop is bounded by --count.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SID = "AC" + "0" * 32
TOKEN = "bench-token"
TEXT = "Bonjour {{ first_name }}, réunion publique jeudi 19h à {{ commune }}."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class RssSampler:
    def __init__(self):
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.wait(0.2):
            self.samples.append(rss_mb())

    def __enter__(self):
        self.samples.append(rss_mb())
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.samples.append(rss_mb())


SMTP_SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return '250 OK'
c = Controller(Sink(), hostname='127.0.0.1', port=int(sys.argv[1]))
c.start()
try:
    while True:
        time.sleep(3600)
finally:
    c.stop()
"""


def make_store(folder: Path, count: int):
    from dbox.importing.pipeline import ImportOptions, import_file
    from dbox.store.db import open_store

    csv = folder / "contacts.csv"
    with csv.open("w", encoding="utf-8") as fh:
        fh.write("Prénom;Nom;Portable;Courriel;Code postal;Commune;Accord SMS;Accord email\n")
        for i in range(count):
            fh.write(f"Prénom{i};Nom{i};06{i:08d};p{i}@example.org;38000;Grenoble;oui;oui\n")
    store = open_store(folder / "dbox.sqlite3")
    t0 = time.monotonic()
    import_file(store, csv, ImportOptions())
    print(f"  store: {count:,} contacts imported in {time.monotonic() - t0:.1f} s")
    return store


def audience(store, channel: str, count: int):
    from dbox.sending import service
    from dbox.sending.compose import Template
    from dbox.store import ledger

    composer = service.make_composer(store, __import__("dbox.channels", fromlist=["get_channel"]).get_channel(channel),
                                     __import__("dbox.channels", fromlist=["get_channel"]).get_channel(channel).settings(),
                                     Template(TEXT, "Réunion publique" if channel == "email" else None))
    reach = ledger.Reach("sms" if channel == "sms" else "email", "mobile" if channel == "sms" else "email")
    fields = sorted(composer.fields_needed)
    out = []
    for contact_id, address, *values in ledger.iter_audience(store, reach, "1", [], fields, ()):
        values.pop()
        out.append((contact_id, address, composer.render(contact_id, address, dict(zip(fields, values)), None)))
    return out[:count]


def bare_sms(messages, base_url: str, workers: int, settled: bool = False) -> float:
    """The twilio client as its documentation shows it, one per thread. ``settled``: with dbox's
    HTTP client instead of twilio's default one (the proxy/CA environment read once, requests
    sent through the HTTP adapter directly: ``dbox.channels.sms._Direct``), as dbox's sender
    does, to show what the ledger, checks and rendering cost on their own."""
    from twilio.rest import Client

    from dbox.channels.sms import _http_client, _quiet_twilio_logging

    _quiet_twilio_logging()
    parts = [messages[i::workers] for i in range(workers)]

    def run(part):
        if settled:
            client = Client(SID, TOKEN, http_client=_http_client(15))
            client.http_client.settle_environment(base_url)
        else:
            client = Client(SID, TOKEN)
        client.api.base_url = base_url
        for _cid, to, rendered in part:
            client.messages.create(to=to, from_="MonParti", body=rendered.body)

    return timed(run, parts, "settled" if settled else "bare")


def bare_email(messages, port: int, workers: int) -> float:
    import smtplib
    from email import policy
    from email.message import EmailMessage
    from email.utils import format_datetime
    from datetime import datetime, timezone

    parts = [messages[i::workers] for i in range(workers)]

    def run(part):
        conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.ehlo()
        for cid, to, rendered in part:
            msg = EmailMessage(policy=policy.SMTP)
            msg["From"] = "Mon Parti <equipe@monparti.example>"
            msg["To"] = to
            msg["Subject"] = rendered.subject
            msg["Date"] = format_datetime(datetime.now(timezone.utc))
            msg["Message-ID"] = rendered.message_id
            for k, v in rendered.headers.items():
                msg[k] = v
            msg.set_content(rendered.body, cte="quoted-printable")
            conn.mail("equipe@monparti.example")
            conn.rcpt(to)
            conn.data(msg.as_bytes())
        conn.quit()

    return timed(run, parts)


CPU: dict = {}


def timed(run, parts, key: str = "bare") -> float:
    threads = [threading.Thread(target=run, args=(p,)) for p in parts]
    t0, c0 = time.monotonic(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    CPU.setdefault(key, []).append(time.process_time() - c0)
    return time.monotonic() - t0


def dbox_send(store, channel: str, count: int, workers: int):
    from dbox.sending import service
    from dbox.sending.compose import Template
    from dbox.store import ledger

    selection = service.Selection(f"c.id <= {count}", [], f"bench {channel}")
    template = Template(TEXT, "Réunion publique" if channel == "email" else None)
    request = service.SendRequest(channel, selection, template, now=True, rate="1000000/s", workers=workers,
                                  new_campaign=True)
    t0 = time.monotonic()
    plan = service.plan_send(store, request)
    t1 = time.monotonic()
    c1 = time.process_time()
    with RssSampler() as rss:
        campaign_id, report = service.start(store, plan)
    t2 = time.monotonic()
    CPU["dbox"] = time.process_time() - c1
    assert report.accepted == count, report
    assert ledger.state_counts(store, campaign_id)["accepted"] == count
    CPU["writes_per_commit"] = report.ledger_writes / max(1, report.ledger_commits)
    return t1 - t0, t2 - t1, rss.samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages per channel (default 100000)")
    parser.add_argument("--channels", default="sms,email")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dbox-send-bench-"))
    os.environ["DBOX_CONFIG_DIR"] = str(work / "config")
    os.environ["DBOX_DB"] = str(work / "dbox.sqlite3")
    sms_port, smtp_port = free_port(), free_port()
    servers = [
        subprocess.Popen([sys.executable, "-m", "dbox.testing.twilio_server", "--port", str(sms_port),
                          "--token", TOKEN, "--delivery-delay", "0"], stdout=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-c", SMTP_SINK, str(smtp_port)], stdout=subprocess.DEVNULL),
    ]
    try:
        wait_port(sms_port)
        wait_port(smtp_port)
        os.environ.update(DBOX_TWILIO_ACCOUNT_SID=SID, DBOX_TWILIO_AUTH_TOKEN=TOKEN, DBOX_TWILIO_SENDER="MonParti",
                          DBOX_TWILIO_BASE_URL=f"http://127.0.0.1:{sms_port}")
        from dbox.config import update_section

        update_section("channels.sms", {"optout_mention": "STOP au 36173", "quiet_hours": False})
        update_section("channels.email", {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                                          "from_address": "equipe@monparti.example", "from_name": "Mon Parti",
                                          "unsubscribe_mailto": "desinscription@monparti.example",
                                          "unsubscribe_url": "https://monparti.example/d?t={token}"})
        print(f"send bench: {args.count:,} messages per channel, {args.workers} workers, {os.cpu_count()} cores")
        store = make_store(work, args.count)
        for channel in [c.strip() for c in args.channels.split(",") if c.strip()]:
            messages = audience(store, channel, args.count)

            def bare_run() -> float:
                if channel == "sms":
                    return bare_sms(messages, f"http://127.0.0.1:{sms_port}", args.workers)
                return bare_email(messages, smtp_port, args.workers)

            CPU.clear()
            before = bare_run()                       # bare, dbox, bare again: load drifts on a shared box
            plan_s, send_s, rss = dbox_send(store, channel, args.count, args.workers)
            after = bare_run()
            settled = (bare_sms(messages, f"http://127.0.0.1:{sms_port}", args.workers, settled=True)
                       if channel == "sms" else None)
            del messages
            bare = (before + after) / 2
            n = args.count
            print(f"{channel}:")
            print(f"  bare loop          {n / bare:8.0f} msg/s  (mean of {before:.1f} s before and {after:.1f} s after)")
            print(f"  dbox send (sending){n / send_s:8.0f} msg/s  ({send_s:.1f} s)  -> {send_s / bare - 1:+.1%} vs bare")
            print(f"  dbox send (whole)  {n / (plan_s + send_s):8.0f} msg/s  (+{plan_s:.1f} s planning: counts, "
                  f"rendering every message for segments/cost)")
            bare_cpu = sum(CPU["bare"]) / len(CPU["bare"])
            print(f"  CPU (this process) bare {bare_cpu:.1f} s, dbox {CPU['dbox']:.1f} s  -> "
                  f"{CPU['dbox'] / bare_cpu - 1:+.1%} vs bare")
            if settled is not None:
                cpu = CPU["settled"][0]
                print(f"  bare loop through dbox's HTTP client: {n / settled:.0f} msg/s, CPU "
                      f"{cpu:.1f} s -> dbox {CPU['dbox'] / cpu - 1:+.1%} CPU, {send_s / settled - 1:+.1%} wall "
                      f"(what the ledger, checks and rendering cost)")
            print(f"  ledger writes per commit {CPU['writes_per_commit']:.2f} (claims and outcomes arriving together)")
            print(f"  RSS during send    {min(rss):.0f}-{max(rss):.0f} MB (start {rss[0]:.0f}, end {rss[-1]:.0f})")
    finally:
        for p in servers:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
