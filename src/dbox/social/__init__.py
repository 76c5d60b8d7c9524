"""Social networks: follower exports and API syncs turned into identities linked to contacts,
OAuth connections with tokens in the keyring, and posts checked against each network's rules.

Modules: ``formats`` (export files), ``urls`` (profile URL keys), ``followers`` (file import),
``length`` (per-network limits), ``oauth`` and ``tokens`` (connections), ``clients`` (the
networks' HTTP APIs), ``sync`` (paging through followers), ``posting`` (publishing).
"""
