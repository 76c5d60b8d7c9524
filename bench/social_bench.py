"""Benchmark of ``dbox followers import`` against a raw sqlite3 baseline on the same data, in the
same run.

    .venv/bin/python bench/social_bench.py                  # 200,000 X followers, 50,000 contacts
    .venv/bin/python bench/social_bench.py --followers 50000

It writes an X archive ``follower.js`` and a LinkedIn ``Connections.csv`` (half the connections
carry an e-mail or a profile URL that a contact also has), builds a store of contacts holding those
e-mails and URLs (custom field ``linkedin``), then times:
  1. the baseline: json.loads of the follower list + sqlite3 executemany of the raw rows into a
     bare table, one transaction (no matching, no relations, no linking);
  2. ``import_followers_file`` of the same files (matching, relations, linking, snapshot);
  3. the same import again with --force (everyone already known: the matching path).
It prints each time and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def write_files(folder: Path, followers: int, connections: int) -> tuple[Path, Path]:
    x = folder / "follower.js"
    entries = [{"follower": {"accountId": str(10_000_000 + i),
                             "userLink": f"https://twitter.com/intent/user?user_id={10_000_000 + i}"}}
               for i in range(followers)]
    x.write_text("window.YTD.follower.part0 = " + json.dumps(entries, indent=1))
    lines = ["Notes:", '"When exporting your connection data, you may notice..."', "",
             "First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    for i in range(connections):
        email = f"personne{i}@example.org" if i % 4 == 0 else ""
        lines.append(f"Prénom{i},Nom{i},https://www.linkedin.com/in/personne-{i},{email},Mairie,Agent,12 Oct 2023")
    li = folder / "Connections.csv"
    li.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return x, li


def make_store(path: Path, contacts: int):
    from dbox.store.db import open_store, utcnow

    store = open_store(path)
    now = utcnow()
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            ((i + 1, f"Prénom{i}", f"Nom{i}", f"personne{i}@example.org", now, now) for i in range(contacts)))
        store.conn.executemany("INSERT INTO contact_points (contact_id, kind, value) VALUES (?, 'email', ?)",
                               ((i + 1, f"personne{i}@example.org") for i in range(contacts)))
        store.conn.executemany(
            "INSERT INTO contact_fields (contact_id, name, value) VALUES (?, 'linkedin', ?)",
            ((i + 1, f"https://linkedin.com/in/Personne-{i}/") for i in range(1, contacts, 4)))
    return store


def baseline(x: Path, db: Path) -> float:
    start = time.perf_counter()
    text = x.read_text()
    data = json.loads(text[text.index("=") + 1:])
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE raw (account_id TEXT, link TEXT)")
    with conn:
        conn.executemany("INSERT INTO raw VALUES (?, ?)",
                         ((e["follower"]["accountId"], e["follower"]["userLink"]) for e in data))
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=200_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    from dbox.social.followers import import_followers_file

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        x, li = write_files(folder, args.followers, args.contacts)
        store = make_store(folder / "store" / "dbox.sqlite3", args.contacts)
        base = baseline(x, folder / "raw.sqlite3")
        print(f"baseline: json + executemany of {args.followers:,} rows: {base:.2f} s")
        for label, path, force in (("X follower.js", x, False), ("X follower.js again (--force)", x, True),
                                   ("LinkedIn Connections.csv", li, False)):
            start = time.perf_counter()
            report = import_followers_file(store, path, force=force)
            took = time.perf_counter() - start
            linked = report.linked
            print(f"{label}: {report.read:,} rows, {report.new_identities:,} new, linked "
                  f"{linked.by_email:,} by e-mail / {linked.by_profile_url:,} by URL: {took:.2f} s "
                  f"({took / base:.1f} x baseline)")
        store.close()


if __name__ == "__main__":
    main()
