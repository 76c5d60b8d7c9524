import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from dbox.normalize import (
    ValueRejected, normalize_civility, normalize_email, normalize_name, normalize_phone,
    normalize_postal_code, parse_yes_no, phone_region_for_postal_code, split_tags,
)


@pytest.mark.parametrize("raw, e164, kind", [
    ("06 12 34 56 78", "+33612345678", "mobile"),
    ("0612345678", "+33612345678", "mobile"),
    ("612345678", "+33612345678", "mobile"),          # Excel ate the leading zero
    ("612345678.0", "+33612345678", "mobile"),        # a number cell of a workbook
    ("+33 6 12 34 56 78", "+33612345678", "mobile"),
    ("0033612345678", "+33612345678", "mobile"),
    ("33612345678", "+33612345678", "mobile"),
    ("07.81.23.45.67", "+33781234567", "mobile"),
    ("04 76 12 34 56", "+33476123456", "fixed"),
    ("(04) 76-12-34-56", "+33476123456", "fixed"),
    ("09 51 23 45 67", "+33951234567", "fixed"),
    ("+32 470 12 34 56", "+32470123456", "mobile"),   # a Belgian mobile through phonenumbers
])
def test_phones(raw, e164, kind):
    phone = normalize_phone(raw)
    assert (phone.e164, phone.kind) == (e164, kind)


def test_overseas_phone_by_postal_code_region():
    assert phone_region_for_postal_code("97200") == "MQ"
    assert phone_region_for_postal_code("97400") == "RE"
    assert phone_region_for_postal_code("97600") == "YT"
    assert phone_region_for_postal_code("38000") == "FR"
    assert normalize_phone("0696 12 34 56", "MQ").e164 == "+596696123456"
    assert normalize_phone("0692 12 34 56", "RE").e164 == "+262692123456"
    assert normalize_phone("0690 12 34 56", "GP").e164 == "+590690123456"
    # A metropolitan mobile of someone living overseas stays metropolitan.
    assert normalize_phone("06 42 78 37 86", "RE").e164 == "+33642783786"
    # Without a postal code, a number only one overseas region knows is still recognised.
    assert normalize_phone("0694 12 34 56").e164 == "+594694123456"


@pytest.mark.parametrize("raw", ["12 34", "abc", "0612", "06123456789012", "+33 0 12"])
def test_bad_phones_are_rejected_with_the_value(raw):
    with pytest.raises(ValueRejected, match="is not a valid phone number"):
        normalize_phone(raw)


@given(st.text(alphabet="0123456789 +.-", min_size=1, max_size=16))
@settings(max_examples=400, deadline=None)
def test_phone_fast_path_agrees_with_phonenumbers(raw):
    """Whatever the fast path accepts, phonenumbers accepts identically (same E.164, same type)."""
    try:
        phone = normalize_phone(raw)
    except ValueRejected:
        return
    number = phonenumbers.parse(phone.e164)
    assert phonenumbers.is_valid_number(number)
    is_mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    assert (phone.kind == "mobile") == is_mobile


@given(st.sampled_from(["06", "07", "01", "02", "03", "04", "05", "09"]),
       st.text(alphabet="0123456789", min_size=8, max_size=8))
@settings(max_examples=400, deadline=None)
def test_french_numbers_match_phonenumbers_exactly(prefix, rest):
    raw = prefix + rest
    number = phonenumbers.parse(raw, "FR")
    if phonenumbers.is_valid_number(number):
        phone = normalize_phone(raw)
        assert phone.e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    else:
        # Not a metropolitan number: rejected, or recognised as one overseas region's number.
        try:
            phone = normalize_phone(raw)
        except ValueRejected:
            return
        assert not phone.e164.startswith("+33")
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone.e164))


def test_emails():
    assert normalize_email("  Jean.Dupont@Example.FR ") == "jean.dupont@example.fr"
    assert normalize_email("<marie@exemple.fr>") == "marie@exemple.fr"
    assert normalize_email("mailto:a.b+c@sub.exemple.org") == "a.b+c@sub.exemple.org"
    assert normalize_email("élodie@exemple.fr") == "élodie@exemple.fr"   # through email-validator
    for bad in ["jean@@x.fr", "jean.dupont", "jean@exemple", "@exemple.fr", "jean..d@exemple.fr",
                "jean@localhost", "a b@exemple.fr"]:
        with pytest.raises(ValueRejected, match="is not a valid e-mail"):
            normalize_email(bad)


@given(st.from_regex(r"[a-z0-9._%+-]{1,12}@[a-z0-9.-]{1,12}\.[a-z]{2,5}", fullmatch=True))
@settings(max_examples=400, deadline=None)
def test_email_fast_path_never_accepts_what_email_validator_rejects(raw):
    try:
        ours = normalize_email(raw)
    except ValueRejected:
        return
    try:
        theirs = validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        pytest.fail(f"fast path accepted {raw!r}, email-validator says {exc}")
    assert ours == theirs


def test_postal_codes():
    assert normalize_postal_code("07340") == "07340"
    assert normalize_postal_code("7340") == "07340"
    assert normalize_postal_code("1000.0") == "01000"
    assert normalize_postal_code(" 38 000 ") == "38000"
    for bad in ["380", "ABCDE", "380000"]:
        with pytest.raises(ValueRejected, match="is not a 5-digit postal code"):
            normalize_postal_code(bad)


@pytest.mark.parametrize("raw, expected", [
    ("JEAN-PIERRE", "Jean-Pierre"), ("dupont", "Dupont"), ("DE LA TOUR", "de La Tour"),
    ("n'diaye", "N'Diaye"), ("jean de la fontaine", "Jean de La Fontaine"), ("D'ARTAGNAN", "d'Artagnan"),
    ("McDonald", "McDonald"), ("  Marie   Claire ", "Marie Claire"), ("ÉLODIE", "Élodie"),
])
def test_names(raw, expected):
    assert normalize_name(raw) == expected


def test_civility_tags_yes_no():
    assert [normalize_civility(c) for c in ["M", "Monsieur", "mr.", "MME", "Madame", "Mlle"]] == \
        ["M.", "M.", "M.", "Mme", "Mme", "Mme"]
    assert split_tags("militant, Porte-à-porte; élu|militant") == ["militant", "Porte-à-porte", "élu"]
    assert parse_yes_no("Oui") and parse_yes_no("x") and not parse_yes_no("non") and not parse_yes_no("")
    with pytest.raises(ValueRejected, match="neither yes nor no"):
        parse_yes_no("peut-être")
