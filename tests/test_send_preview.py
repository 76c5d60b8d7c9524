"""Previews for everyone: --dry-run with no channel configured; a UCS-2 campaign names the
characters responsible and the GSM-7 cost without them; --gsm replaces them, in the preview first."""

from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.sending.sms_parts import count, to_gsm


def test_to_gsm_keeps_the_alphabet_and_replaces_the_rest():
    assert to_gsm("Réunion à l'école, où ? Père Noël") == "Réunion à l'école, où ? Père Noel"
    assert to_gsm("Fête « Forêt » – œuvre") == 'Fete "Foret" - oeuvre'
    assert to_gsm("Ça va ? 🙂") == "Ça va ? "
    assert count(to_gsm("Fête « Forêt » – œuvre ç")).encoding == "GSM-7"


def test_dry_run_without_any_channel_configured(store, tmp_path, cli):
    import_contacts(store, tmp_path, people(3))
    sms = cli("send", "--sms", "-m", "Réunion jeudi {{ first_name }}", "--dry-run")
    assert sms.exit_code == 0, sms.output
    assert "Réunion jeudi Prénom0" in sms.output and "recipients: 3" in sms.output
    assert "SMS segments: 3" in sms.output
    assert "channel sms not configured yet" in sms.output and "dbox channels setup sms" in sms.output
    mail = cli("send", "--email", "--subject", "S", "-m", "Bonjour {{ first_name }}", "--dry-run")
    assert mail.exit_code == 0, mail.output
    assert "Bonjour Prénom1" in mail.output and "channel email not configured yet" in mail.output
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


def test_ucs2_names_the_characters_and_the_gsm_cost_then_gsm_sends_gsm7(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(4))
    text = "Fête de la « Forêt » jeudi 19h, salle des fêtes de Grenoble, venez nombreux avec vos voisins"
    preview = cli("send", "--sms", "-m", text, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "UCS-2: 4" in preview.output
    assert "UCS-2 because of: ê (4 message(s)), « (4 message(s)), » (4 message(s))" in preview.output
    assert "in GSM-7 without them: 4 segments, 0.20 EUR" in preview.output and "--gsm" in preview.output
    sent = cli("send", "--sms", "-m", text, "--gsm", "--yes")
    assert sent.exit_code == 0, sent.output
    assert "GSM-7: 4" in sent.output and '| Fete de la "Foret" jeudi' in sent.output
    bodies = [m["body"] for m in twilio.outbound()]
    assert len(bodies) == 4 and all(b.startswith('Fete de la "Foret" jeudi') for b in bodies)
    assert all(count(b).encoding == "GSM-7" for b in bodies)
