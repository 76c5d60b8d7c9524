"""Organizing: actions (door-to-door, leafleting, phone banks, meetings, events), invitations through
the send pipeline, answers and attendance, results brought back from the field, volunteers and
their territories, walk and call lists, interactions, each contact's timeline, statistics.

Modules: ``actions`` (create, edit, cancel, find), ``people`` (RSVP, attendance), ``invite``,
``results`` (import-results), ``sheets`` (+ ``streets``), ``interactions``, ``timeline``,
``stats``, ``privacy`` (what ``dbox privacy export`` shows). All SQL is in dbox.store.organizing;
the rules are in docs/organizing.md.
"""
