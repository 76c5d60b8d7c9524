"""Electoral geography: the electoral roll, bureaux de vote, past results and the legal calendar.

Plain functions over a store (``dbox.store.electoral`` holds the SQL). docs/electoral.md explains
where each file comes from and which CNIL and Code électoral rules dbox enforces.
"""
