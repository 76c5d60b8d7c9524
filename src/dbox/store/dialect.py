"""The mechanical differences between SQLite's SQL and PostgreSQL's, applied to a statement.

The store's statements are written once, in SQLite's words, when both engines accept them after
these rewrites (docs/store.md):

- ``?`` placeholders become psycopg's ``%s``, named ``:name`` ones (parameters given as a dict) ``%(name)s`` (and a literal
  ``%`` is doubled);
- ``BEGIN IMMEDIATE`` becomes ``BEGIN`` (PostgreSQL locks rows, not the file);
- ``INSERT OR IGNORE INTO t ...`` becomes ``INSERT INTO t ... ON CONFLICT DO NOTHING``;
- ``INSERT OR REPLACE INTO t (cols) ...`` becomes an upsert on the table's primary key
  (``REPLACE_KEYS`` names it; a table missing there is a programming error, said at once);
- ``temp.NAME`` becomes ``pg_temp.NAME``;
- ``(x IS NOT 1)`` (the filter language's "not", NULL being false) becomes ``(x IS NOT TRUE)``;
- ``x IN (SELECT value FROM json_each(?))`` becomes ``x = ANY(?)``, its JSON parameter a list
  (``translate`` gives the parameters' positions; prefer ``store.values_in`` in new code).

``group_concat``, ``instr`` and ``sum(boolean)`` exist on PostgreSQL too: the first migration's
PostgreSQL form defines them. What really differs (``json_each``, date arithmetic, ``rowid``,
PRAGMAs, ``sqlite_master``, ``GLOB``) is written per engine in the module that needs it, choosing
on ``store.engine``.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Primary key (the conflict target) of each table written with INSERT OR REPLACE.
REPLACE_KEYS: dict[str, tuple[str, ...]] = {
    "meta": ("key",),
    "contact_fields": ("contact_id", "name"),
    "election_votes": ("election", "bureau", "panel"),
    "election_results": ("election", "bureau"),
    "election_overrides": ("campaign_id",),
    "consent_wordings": ("event_id",),
    "soft_bounces": ("value_hash",),
}
# Columns of the tables written with INSERT OR REPLACE without a column list.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "election_votes": ("election", "bureau", "panel", "nuance", "candidate", "voix"),
    "election_results": ("election", "bureau", "inscrits", "votants", "exprimes", "blancs", "nuls"),
}

_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+", re.I)
_TABLE_COLUMNS = re.compile(r'^([\w."]+)\s*(?:\(([^)]*)\))?', re.S)
_RETURNING = re.compile(r"\sRETURNING\s", re.I)


_JSON_LIST = re.compile(r"\bIN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\?\)\s*\)", re.I)
_LIST_MARK = "\x00"


def _placeholders(sql: str, has_params: bool, named: bool = False) -> tuple[str, tuple[int, ...]]:
    """``?`` -> ``%s`` outside quotes; every ``%`` doubled when psycopg will read placeholders.
    Also the positions of the parameters that are JSON lists now compared with ``= ANY``."""
    out, lists = [], []
    quote = None
    index = 0
    name = False                # inside a named placeholder's name
    for i, ch in enumerate(sql):
        if name:
            if ch.isalnum() or ch == "_":
                out.append(ch)
                continue
            out.append(")s")
            name = False
        if quote:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" and has_params else ch)
            continue
        if ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?" or ch == _LIST_MARK:
            if ch == _LIST_MARK:
                lists.append(index)
            index += 1
            out.append("%s")
        elif ch == "%" and has_params:
            out.append("%%")
        elif (ch == ":" and named and i + 1 < len(sql) and (sql[i + 1].isalpha() or sql[i + 1] == "_")
              and (i == 0 or sql[i - 1] != ":")):
            out.append("%(")
            name = True
        else:
            out.append(ch)
    if name:
        out.append(")s")
    return "".join(out), tuple(lists)


def _conflict_clause(sql: str, clause: str) -> str:
    body = sql.rstrip().rstrip(";")
    found = _RETURNING.search(body)
    if found:
        return f"{body[:found.start()]} {clause}{body[found.start():]}"
    return f"{body} {clause}"


def _insert_or(sql: str) -> str:
    found = _INSERT_OR.match(sql)
    if not found:
        return sql
    verb, rest = found.group(1).upper(), sql[found.end():]
    sql = "INSERT INTO " + rest
    if verb == "IGNORE":
        return _conflict_clause(sql, "ON CONFLICT DO NOTHING")
    target = _TABLE_COLUMNS.match(rest)
    table = target.group(1).strip('"')
    if table not in REPLACE_KEYS:
        raise ValueError(f"INSERT OR REPLACE INTO {table}: add its primary key to dbox.store.dialect.REPLACE_KEYS")
    keys = REPLACE_KEYS[table]
    columns = ([c.strip().strip('"') for c in target.group(2).split(",")] if target.group(2)
               else list(TABLE_COLUMNS[table]))
    others = [c for c in columns if c not in keys]
    action = ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in others)) if others else "DO NOTHING"
    return _conflict_clause(sql, f"ON CONFLICT ({', '.join(keys)}) {action}")


def to_postgres(sql: str, has_params: bool = True, named: bool = False) -> str:
    """The PostgreSQL form of one statement written in SQLite's words (module docstring);
    ``named``: its parameters are named (``:name``, given as a dict)."""
    return translate(sql, has_params, named)[0]


@lru_cache(maxsize=4096)
def translate(sql: str, has_params: bool = True, named: bool = False) -> tuple[str, tuple[int, ...]]:
    """``to_postgres``, and the positions of the parameters to turn from JSON text into lists."""
    stripped = sql.strip()
    upper = stripped.upper()
    if upper in ("BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN EXCLUSIVE"):
        return "BEGIN", ()
    sql = _insert_or(sql)
    sql = _JSON_LIST.sub("= ANY(" + _LIST_MARK + ")", sql)
    sql = re.sub(r"\btemp\.(\w)", r"pg_temp.\1", sql)
    sql = re.sub(r"\bIS NOT 1(?![\w.])", "IS NOT TRUE", sql)    # the filters' "not": NULL counts as false
    return _placeholders(sql, has_params, named)
