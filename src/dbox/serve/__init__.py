"""``dbox serve``: the live side of dbox, one web process (docs/serve.md).

Twilio's webhooks (inbound SMS, delivery statuses), one-click unsubscribes, and the pages other
modules add (sign-up forms, event pages, volunteers' pages) reach the store when they happen.

The package sits in its own layer, ``live``, above the features: like the command line, it puts
areas together (a reply becomes an RSVP of ``organizing``, a STOP goes through ``sending``'s rule).

- :mod:`dbox.serve.app` builds the Starlette application from the route modules
  (:mod:`dbox.serve.routes`) and gives each request its store;
- :mod:`dbox.serve.server` runs it under uvicorn (``dbox serve``), or in a thread for tests;
- :mod:`dbox.serve.accesslog` writes one JSON line per request, with no personal data.
"""
