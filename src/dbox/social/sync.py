"""``dbox followers import --from x|mastodon|facebook``: followers from the network's API.

X and Mastodon list followers newest first, a page at a time. The first run pages through all
of them; later runs stop at the first page holding a follower already known (only new followers
are fetched). Each page is committed with the resume point in one transaction, so a run stopped
by a long rate-limit wait (``--max-wait``), a network error or Ctrl-C loses nothing: the next
run resumes where it stopped. ``--full`` pages through everything again.

Facebook's Graph API gives a Page's follower count, not the followers: ``--from facebook``
records the count (a growth snapshot). LinkedIn's API lists neither: use Connections.csv.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dbox.errors import InputError, ProviderError
from dbox.social.clients import RateLimited
from dbox.social.formats import check_network
from dbox.social.urls import url_key
from dbox.store import social as store_social
from dbox.store.db import Store, utcnow
from dbox.social.connections import open_client
from dbox.i18n import _

MAX_PAGES = 100_000          # a bound on the loop, far above any real account


@dataclass
class SyncReport:
    network: str
    pages: int = 0
    read: int = 0
    new: int = 0
    total: int | None = None
    complete: bool = False
    stopped_early: str | None = None
    linked: store_social.LinkCounts | None = None
    dry_run: bool = False
    import_id: int | None = None


def sync_followers(store: Store, network: str, *, full: bool = False, max_wait: float = 900,
                   dry_run: bool = False, progress: Callable[[str], None] | None = None,
                   sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> SyncReport:
    network = check_network(network)
    if network == "linkedin":
        raise InputError(_("LinkedIn's API does not list connections or followers"),
                         hint=_("download your data from LinkedIn and run: dbox followers import Connections.csv"))
    say = progress or (lambda text: None)
    client, account = open_client(store, network, sleep=sleep, clock=clock, max_wait=max_wait,
                                  on_wait=lambda s: say(f"{network}: rate limit, waiting {int(s)} s"))
    report = SyncReport(network, dry_run=dry_run)
    if network == "facebook":
        return _facebook_count(store, client, account, report)

    profile = client.me()
    report.total = profile.followers_count
    state = {} if full else dict(account.get("sync_state") or {})
    cursor = state.get("cursor")
    incremental = bool(state.get("complete")) and not full
    if not dry_run:
        with store.transaction(immediate=True):
            report.import_id = store_social.start_import(
                store, f"{network} API ({profile.handle or profile.account_id})", f"api:{network}:{utcnow()}",
                {"source": "api", "network": network, "full": full, "resumed": bool(cursor)})
    try:
        for _unused in range(MAX_PAGES):
            page = client.followers_page(account["account_id"], cursor)
            report.pages += 1
            report.read += len(page.people)
            records = [store_social.IdentityRecord(
                network=network, relation="follower", account_id=p["account_id"], handle=p.get("handle"),
                display_name=p.get("display_name"), profile_url=p.get("profile_url"),
                url_key=url_key(p.get("profile_url"))) for p in page.people]
            known = store_social.known_account_ids(store, network, "follower", [r.account_id for r in records])
            report.new += sum(1 for r in records if r.account_id not in known)
            cursor = page.next
            reached_known = incremental and bool(known)
            done = cursor is None or reached_known
            if not dry_run:
                with store.transaction(immediate=True):
                    counts = store_social.upsert_identities(store, records, report.import_id)
                    store_social.update_import_counts(store, report.import_id, len(records), counts.new_identities,
                                                      counts.seen)
                    new_state = {"complete": True} if done else {"cursor": cursor,
                                                                  "complete": bool(state.get("complete"))}
                    store_social.update_account(store, network, sync_state=new_state, synced_at=utcnow())
            say(f"{network}: page {report.pages}, {report.read:,} followers read, {report.new:,} new")
            if done:
                report.complete = True
                break
    except RateLimited as exc:
        report.stopped_early = f"the network asks to wait {int(exc.wait)} s (more than --max-wait {int(max_wait)})"
    except ProviderError as exc:
        report.stopped_early = str(exc)
    finally:
        if not dry_run and report.import_id is not None:
            with store.transaction(immediate=True):
                report.linked = store_social.link_identities(store, url_key, report.import_id)
                store_social.add_snapshot(store, network, "follower", report.import_id, "api",
                                          total=report.total if report.total is not None else report.read,
                                          new=report.new)
                store_social.finish_import(store, report.import_id, read=report.read, added=report.new, merged=0,
                                           unchanged=report.read - report.new, rejected=0)
    return report


def _facebook_count(store: Store, client, account: dict, report: SyncReport) -> SyncReport:
    page = client.page(account["settings"].get("page_id") or account["account_id"])
    report.total = page.followers_count
    report.complete = True
    report.pages = 1
    if not report.dry_run and page.followers_count is not None:
        with store.transaction(immediate=True):
            store_social.add_snapshot(store, "facebook", "follower", None, "api", total=page.followers_count, new=0)
            store_social.update_account(store, "facebook", synced_at=utcnow())
    return report
