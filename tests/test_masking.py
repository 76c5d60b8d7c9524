"""Masking in logs and errors: phone numbers and e-mail addresses inside a provider's message are
masked; the SMTP codes around them are not (they are what the next engineer needs to read)."""

import pytest

from dbox.masking import scrub


@pytest.mark.parametrize("text, expected", [
    ("550 5.1.1 <jeanne.martin@example.org>: No such user",
     "550 5.1.1 <j\u2022\u2022\u2022@example.org>: No such user"),
    ("452 4.2.2 Mailbox full", "452 4.2.2 Mailbox full"),
    ("550-5.1.1 The email account that you tried to reach does not exist",
     "550-5.1.1 The email account that you tried to reach does not exist"),
    ("421 4.7.0 Try again later", "421 4.7.0 Try again later"),
    ("HTTP 400 error 21211: The 'To' number +33612345678 is not a valid phone number.",
     "HTTP 400 error 21211: The 'To' number +336\u2022\u2022\u2022\u2022\u2022678 is not a valid phone number."),
    ("appel au 06 12 34 56 78", "appel au 06\u2022\u2022\u2022\u2022\u2022678"),
    ("0612345678", "06\u2022\u2022\u2022\u2022\u2022678"),
])
def test_scrub_masks_people_and_keeps_codes(text, expected):
    assert scrub(text) == expected


def test_no_full_phone_or_address_survives():
    text = "refused +33 6 12 34 56 78 and jeanne@example.org, 550 5.7.1"
    out = scrub(text)
    assert "12 34 56" not in out and "612345678" not in out and "jeanne@" not in out
    assert out.endswith("550 5.7.1")
