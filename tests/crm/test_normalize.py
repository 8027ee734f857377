"""The normalisers turn what scrapers, CSVs and operators type into the one form the database accepts."""

from __future__ import annotations

import pytest

from crm.services import normalize
from crm.services.normalize import (
    guess_time_zone,
    is_disposable_domain,
    is_role_account,
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_time_zone,
    split_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("mailto:jane@example.com", "jane@example.com"),
        ("<jane@example.com>", "jane@example.com"),
        ("jane+news@sub.example.co.uk", "jane+news@sub.example.co.uk"),
        ("anna@bücher.de", "anna@xn--bcher-kva.de"),
        ("jane@example.com.", "jane@example.com"),
    ],
)
def test_normalize_email_returns_the_canonical_lower_case_address(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("jane.example.com", "exactly one '@'"),
        ("jane@@example.com", "exactly one '@'"),
        ("@example.com", "nothing before"),
        ("jane@localhost", "needs a dot"),
        ("jane@exa mple.com", "not"),
        ("jane doe@example.com", "not a valid email"),
        ("jane@-bad-.com", "not a valid host name part"),
    ],
)
def test_normalize_email_rejects_non_addresses_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("WWW.Example.COM", "example.com"),
        ("https://www.example.com:8080/about?x=1", "example.com"),
        ("http://user:pw@shop.example.co.uk/", "shop.example.co.uk"),
        ("jane@Example.com", "example.com"),
        ("example.com/path", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("example.com.", "example.com"),
        ("www.co", "www.co"),  # 'www' is the name here, not a prefix
    ],
)
def test_normalize_domain_strips_scheme_www_path_and_port(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["", "localhost", "http://", "192.168.0.1", "exa_mple.com", "-x-.com"])
def test_normalize_domain_rejects_what_is_not_a_host_name(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_domain(raw)


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (415) 555-0123", None, "+14155550123"),
        ("030 1234567", "DE", "+49301234567"),
        ("030 1234567", "Germany", "+49301234567"),
        ("0049 30 1234567", None, "+49301234567"),
        ("+44 20 7946 0958", "US", "+442079460958"),  # an explicit country code beats the default
        ("020 7946 0958", "uk", "+442079460958"),
    ],
)
def test_normalize_phone_returns_e164(raw: str, country: str | None, expected: str) -> None:
    assert normalize_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("", None, "empty"),
        ("030 1234567", None, "no valid country code"),
        ("+1 415 55", None, "wrong number of digits"),
        ("+49 1", None, "not a phone number"),
        ("+1 200 555 0123", None, "not a valid number"),
        ("call me", "DE", "not a phone number"),
    ],
)
def test_normalize_phone_rejects_bad_numbers_with_the_reason(raw: str, country: str | None, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_phone(raw, country)


def test_normalize_phone_rejects_an_unknown_default_country() -> None:
    with pytest.raises(ValueError, match="country"):
        normalize_phone("030 1234567", "Atlantis")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("Germany", "DE"),
        ("germany ", "DE"),
        ("USA", "US"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("England", "GB"),
        ("South Korea", "KR"),
        ("the Netherlands", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("Bosnia & Herzegovina", "BA"),
        ("Bosnia and Herzegovina", "BA"),
        ("DEU", "DE"),
        ("Deutschland", "DE"),
    ],
)
def test_normalize_country_accepts_codes_and_english_names(raw: str, expected: str) -> None:
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["", "XX", "Atlantis", "Berlin, Germany"])
def test_normalize_country_rejects_unknown_values(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_country(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("utc", "UTC"),
        ("Z", "UTC"),
    ],
)
def test_normalize_time_zone_returns_the_iana_name(raw: str, expected: str) -> None:
    assert normalize_time_zone(raw) == expected


@pytest.mark.parametrize("raw", ["", "CEST", "Mars/Olympus", "+02:00"])
def test_normalize_time_zone_rejects_abbreviations_and_unknown_names(raw: str) -> None:
    with pytest.raises(ValueError, match=r"IANA|empty"):
        normalize_time_zone(raw)


@pytest.mark.parametrize(
    ("country", "phone", "expected"),
    [
        ("DE", None, "Europe/Berlin"),
        ("Germany", None, "Europe/Berlin"),
        ("JP", None, "Asia/Tokyo"),
        ("US", None, None),  # four zones on the mainland: no guess without more information
        ("US", "+14155550123", "America/Los_Angeles"),
        (None, "+12125550123", "America/New_York"),
        (None, "+442079460958", "Europe/London"),
        ("Atlantis", None, None),
        (None, "not a number", None),
        (None, None, None),
    ],
)
def test_guess_time_zone_only_answers_when_the_data_pins_it_down(
    country: str | None, phone: str | None, expected: str | None
) -> None:
    assert guess_time_zone(country, phone) == expected


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Jane Doe", ("Jane", "Doe")),
        ("  Jane   Doe ", ("Jane", "Doe")),
        ("Doe, Jane", ("Jane", "Doe")),
        ("Dr. Jane van der Berg, PhD", ("Jane", "van der Berg")),
        ("Mr John Smith Jr.", ("John", "Smith")),
        ("JOHN SMITH", ("John", "Smith")),
        ("john smith", ("John", "Smith")),
        ("Ronald McDonald", ("Ronald", "McDonald")),
        ("Cher", ("Cher", "")),
        ("", ("", "")),
    ],
)
def test_split_name(full: str, expected: tuple[str, str]) -> None:
    assert split_name(full) == expected


@pytest.mark.parametrize(
    ("local", "expected"),
    [("info", True), ("Sales", True), ("no-reply", True), ("no.reply+x", True), ("support@example.com", True)],
)
def test_is_role_account_recognises_function_mailboxes(local: str, expected: bool) -> None:
    assert is_role_account(local) is expected


@pytest.mark.parametrize("local", ["jane", "jane.doe", "j.smith+news", "information.architect"])
def test_is_role_account_leaves_people_alone(local: str) -> None:
    assert is_role_account(local) is False


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mailinator.com", True),
        ("MAILINATOR.com", True),
        ("x.mailinator.com", True),
        ("jane@yopmail.com", True),
        ("gmail.com", False),
        ("example.com", False),
        ("notmailinator.org", False),  # notmailinator.com itself is a throw-away service (maintained list)
        ("mailinator.com.example.org", False),
        ("not a domain", False),
    ],
)
def test_is_disposable_domain(domain: str, expected: bool) -> None:
    assert is_disposable_domain(domain) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shop.example.co.uk", "example.co.uk"),
        ("https://www.eu.acme.com/about", "acme.com"),
        ("acme.com", "acme.com"),
        ("jane@sales.acme.io", "acme.io"),
    ],
)
def test_registrable_domain_uses_the_public_suffix_list(raw: str, expected: str) -> None:
    assert normalize.registrable_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sra. Maria de la Cruz", ("Maria", "de la Cruz")),
        ("Ing. Hans Peter Müller", ("Hans", "Peter Müller")),
        ("Jane van der Berg", ("Jane", "van der Berg")),
    ],
)
def test_split_name_handles_titles_and_particles_of_other_languages(raw: str, expected: tuple[str, str]) -> None:
    assert normalize.split_name(raw) == expected


def test_country_name_is_the_name_people_search_with() -> None:
    assert normalize.country_name("us") == "United States"
    # The tz database labels these "Britain (UK)" and "Korea (South)": no directory finds London there.
    assert normalize.country_name("GB") == "United Kingdom"
    assert normalize.country_name("kr") == "South Korea"
    assert normalize.country_name("XX") == "XX"
    # A name goes back to its code: the lead list's location round-trips into the lead's country.
    for code in ("US", "GB", "DE", "KR", "AE"):
        assert normalize.normalize_country(normalize.country_name(code)) == code
