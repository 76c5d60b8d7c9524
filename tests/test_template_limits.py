"""Every template error, resource limits included, is one `Error:` line before anything is sent
(issue 12, item 9): through `dbox send` with the local Twilio server."""

import pytest
from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.sending.bounded import MAX_CHARS
from dbox.store import ledger


@pytest.mark.parametrize("template, message", [
    ("{{ range(100000000) }}", "message, line 1: function and method calls: not allowed in a message template"),
    ("{% include '/etc/passwd' %}", "message, line 1: {% include %}: not allowed in a message template"),
    ("{% import 'x' as y %}", "message, line 1: {% import %}: not allowed"),
    ("{% extends '/etc/passwd' %}", "message, line 1: {% extends %}: not allowed"),
    ("{{ ''|format('%s', first_name) }}",
     "message, line 1: template error for contact 1: not all arguments converted during string formatting"),
    ("Bonjour\n{{ 'x' * 100000000 }}", "message, line 2: template too large for contact 1: '*' would be longer"),
    ("{% for i in [1] %}{% for j in [2] %}x{% endfor %}{% endfor %}", "loops ({% for %}): not allowed"),
    ("{% set a = first_name %}{% set a = a ~ a %}", "assignments ({% set %}): not allowed"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macros: not allowed"),
    ("{{ '%0999999999d' % 1 }}", "'%': a width or precision larger than"),
    ("{{ '{:>999999999}'|format(1) }}", "filter format: a width"),
    ("{{ 9 ** 99999999 }}", "'**': an exponent larger than 64"),
    ("{{ first_name|center(999999999) }}", "filter 'center' is not allowed in a message template"),
    ("{{ first_name|truncate(99999999999) }}", "filter truncate: the number 99999999999 is larger"),
    ("{{ (first_name * 100000)|replace('', '0123456789') }}", "filter replace would be longer than"),
    ("{{ first_name.upper() }}", "function and method calls: not allowed"),
    ("{{ lipsum(999999) }}", "function and method calls: not allowed"),
    ("{{ first_name|int / 0 }}", "template error for contact 1: division by zero"),
    ("{{ first_name.__class__.__mro__ }}", "template refused by the sandbox"),
])
def test_a_template_error_is_one_line_before_anything_is_sent(store, tmp_path, twilio, cli, template, message):
    import_contacts(store, tmp_path, people(2))
    result = cli("send", "--sms", "-m", template, "--yes")
    assert result.exit_code == 3, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert "Traceback" not in result.output and len(errors[0]) < 300
    assert twilio.outbound() == [] and list(ledger.list_campaigns(store)) == []


def test_an_email_html_part_is_bounded_too(store, tmp_path, cli):
    from dbox.sending.compose import Composer, Template
    from dbox.channels.base import ComposeRules
    from dbox.errors import InputError

    rules = ComposeRules(kind="email", unsubscribe_url="https://x.example/u/{token}")
    composer = Composer(Template("Bonjour", "Objet", "<p>{{ 'a' * 600000 ~ 'b' * 600000 }}</p>"), rules,
                        custom_fields=set())
    with pytest.raises(InputError, match=rf"HTML part: template too large for contact 7: longer than {MAX_CHARS:,}"):
        composer.render(7, "a@b.fr", {"unsubscribe_uid": "0" * 32}, None)


def test_what_messages_need_still_works(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, [{**p, "job": ""} for p in people(1)] + [{**people(1, start=1)[0], "job": "x"}])
    text = ("{% if first_name %}Bonjour {{ first_name|upper }}{% else %}Bonjour{% endif %}, "
            "{{ (last_name * 2)|replace('N', 'n') }} {{ '%s/%s' % (postal_code, commune) }} "
            "{{ fields.profession|default('militant') }} {{ 2 ** 3 }} {{ [first_name, last_name]|join('-') }}")
    result = cli("send", "--sms", "-m", text, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Bonjour PRÉNOM0, nom0nom0 38000/Grenoble militant 8 Prénom0-Nom0" in result.output


def test_filters_on_missing_fields_render_empty(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, [{**p, "job": ""} for p in people(1)] + [{**people(1, start=1)[0], "job": "x"}])
    text = "A{{ fields.profession|join(',') }}B{{ fields.profession|replace('a', 'b') }}C{{ civility|upper }}D"
    result = cli("send", "--sms", "-m", text, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "ABCD" in result.output and "AxBxCD" in result.output
