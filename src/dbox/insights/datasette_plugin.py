"""The Datasette plugin ``dbox browse`` registers in its own process (never installed globally).

- Facets on the contacts table that plain column facets cannot give: **tags** and **consent**
  (through the contact_tags and consents tables) and **canton** named from the geography table.
  Choosing a value adds a ``_where`` condition to the page's URL, as Datasette does for SQL filters.
- A SQLite authorizer on every connection to the store: the ``meta`` table (the suppression salt,
  the unsubscribe key) cannot be read, not even from a custom SQL query.

The SQL lives in dbox.store.insights.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import path_with_added_args, path_with_removed_args

from dbox.store import insights as sql

DATABASE = "store"
CONTACTS = "contacts"


class _DboxFacet(Facet):
    """A facet over the contacts table whose values filter with ``_where``."""

    type = ""
    label = ""

    def facet_sql(self, limit: int) -> str:
        raise NotImplementedError

    def where_for(self, row) -> str:
        raise NotImplementedError

    async def suggest(self):
        return []

    async def facet_results(self):
        results, timed_out = [], []
        if self.database != DATABASE or self.table != CONTACTS or not self.get_configs():
            return results, timed_out
        size = self.get_facet_size()
        try:
            rows = await self.ds.execute(self.database, self.facet_sql(size + 1), self.params, truncate=False,
                                         custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return results, [self.label]
        pairs = self.get_querystring_pairs()
        values = []
        for row in rows.rows[:size]:
            key, where = self.where_for(row)
            selected = (key, str(where)) in pairs
            path = (path_with_removed_args(self.request, {key: str(where)}) if selected
                    else path_with_added_args(self.request, {key: where}))
            values.append({"value": row["value"], "label": row["label"], "count": row["count"],
                           "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path)),
                           "selected": selected})
        results.append({"name": self.label, "type": self.type, "hideable": False,
                        "toggle_url": self.ds.urls.path(self.request.path), "results": values,
                        "truncated": len(rows.rows) > size})
        return results, timed_out


class TagFacet(_DboxFacet):
    type = "dbox_tag"
    label = "tags"

    def facet_sql(self, limit):
        return sql.browse_tag_facet_sql(self.sql, limit)

    def where_for(self, row):
        return "_where", sql.browse_tag_where(row["value"])


class ConsentFacet(_DboxFacet):
    type = "dbox_consent"
    label = "consent"

    def facet_sql(self, limit):
        return sql.browse_consent_facet_sql(self.sql, limit)

    def where_for(self, row):
        channel, _, status = str(row["value"]).partition(":")
        return "_where", sql.browse_consent_where(channel, status)


class CantonFacet(_DboxFacet):
    type = "dbox_canton"
    label = "canton"

    def facet_sql(self, limit):
        return sql.browse_canton_facet_sql(self.sql, limit)

    def where_for(self, row):
        return "canton_code", row["value"]


@hookimpl
def register_facet_classes():
    return [TagFacet, ConsentFacet, CantonFacet]


def _authorizer(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_READ and arg1 in sql.BROWSE_SECRET_TABLES:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == DATABASE:
        conn.set_authorizer(_authorizer)
