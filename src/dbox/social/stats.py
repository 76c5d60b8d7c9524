"""The ``followers`` section of ``dbox stats`` and ``dbox report``: the networks' audiences over
time and the posts published, contributed through the ``register_stats_sections`` hook."""

from __future__ import annotations

from dbox.hookspecs import hookimpl
from dbox.stats_sections import StatsQuery, StatsSection
from dbox.store import insights as sql


def followers(query: StatsQuery) -> dict:
    """Follower counts per network and relation and period, the latest of each, and posts published
    since the start of the period. The selection does not apply: these are audiences, not contacts."""
    series = []
    latest: dict[tuple[str, str], dict] = {}
    for network, relation, p, total, new, linked, taken_at in sql.follower_series(query.store, query.period,
                                                                                 query.since):
        series.append({"network": network, "relation": relation, "period": p, "total": total, "new": new,
                       "linked": linked})
        latest[(network, relation)] = {"network": network, "relation": relation, "total": total, "linked": linked,
                                       "taken_at": taken_at}
    prefix = "social:"          # this area's channels (dbox.social.channel); other broadcasts are not ours
    posts = [{"network": channel[len(prefix):], "published": done or 0, "not_published": other or 0}
             for channel, done, other in sql.posts_published(query.store, query.since)
             if channel.startswith(prefix)]
    return {"series": series, "latest": list(latest.values()), "posts": posts}


@hookimpl
def register_stats_sections(register):
    register(StatsSection("followers", followers, position=40,
                          note="followers and posts are the networks' audiences: the selection does not apply "
                               "to them"))
