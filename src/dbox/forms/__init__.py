"""Sign-up forms: the live address book (docs/serve.md, "Sign-up forms").

- :mod:`dbox.forms.definitions` — ``dbox forms create|list|show|disable`` and the embeddable snippet;
- :mod:`dbox.forms.submit` — a submission through the import's own normalization, dedupe,
  suppression and consent rules (:func:`dbox.importing.pipeline.import_rows`), and the e-mail
  confirmation it asks for (double opt-in);
- :mod:`dbox.forms.privacy` — what the area holds on a person, for ``dbox privacy export``.

The pages themselves are served by :mod:`dbox.serve.forms`.
"""
