"""Pure normalisation of the contact data that reaches us from scrapers, CSVs and enrichment APIs.

Every function takes raw text and returns the one canonical form the database constraints accept
(lower-case email, bare domain, E.164 phone, ISO alpha-2 country, IANA zone) or raises ``ValueError``
with a message an operator can act on. No database access here, so agents and forms can call it freely.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
import zoneinfo
from importlib import resources
from urllib.parse import urlsplit

import idna
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from nameparser import HumanName
from phonenumbers import timezone as phone_timezone
from publicsuffixlist import PublicSuffixList

from crm.services.reference_data import COUNTRY_ALIASES, DISPOSABLE_DOMAINS, ROLE_LOCAL_PARTS

__all__ = [
    "country_name",
    "guess_time_zone",
    "is_disposable_domain",
    "is_role_account",
    "looks_like_email",
    "normalize_country",
    "normalize_domain",
    "normalize_email",
    "normalize_phone",
    "normalize_time_zone",
    "registrable_domain",
    "split_name",
]

_email_validator = EmailValidator()
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_WS = re.compile(r"\s+")


# --- email and domain ---------------------------------------------------------------------------


def looks_like_email(value: str) -> bool:
    """An address rather than a URL (``https://user@host/`` holds an ``@`` too); not a validation."""
    return "@" in value and "://" not in value


def normalize_email(raw: str) -> str:
    """``"  Jane.Doe@Example.COM "`` -> ``"jane.doe@example.com"``; raises ValueError when not an address.

    The whole address is lower-cased: providers treat local parts case-insensitively in practice, and
    one lead per address only holds if the stored form is canonical.
    """
    value = (raw or "").strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    value = value.strip().strip("<>").strip()
    if not value:
        raise ValueError("email is empty")
    if value.count("@") != 1:
        raise ValueError(f"{value!r} is not an email address: it needs exactly one '@'")
    local, _, domain_part = value.rpartition("@")
    if not local:
        raise ValueError(f"{value!r} is not an email address: nothing before the '@'")
    try:
        domain = _idna_host(domain_part.strip().rstrip(".").lower())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an email address: {exc}") from None
    email = f"{local.lower()}@{domain}"
    if len(email) > 254:
        raise ValueError(f"{value!r} is not an email address: longer than 254 characters")
    try:
        _email_validator(email)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid email address") from None
    return email


def normalize_domain(raw: str) -> str:
    """A bare, lower-case, IDNA-encoded host from a URL, a domain or an email address.

    ``"https://www.Example.com:8080/about"``, ``"www.example.com"`` and ``"jane@example.com"`` all give
    ``"example.com"``. Raises ValueError for IP addresses and anything that is not a host name.
    """
    value = (raw or "").strip()
    if not value:
        raise ValueError("domain is empty")
    if looks_like_email(value):
        value = value.rpartition("@")[2]
    parts = urlsplit(value if "://" in value else f"//{value}")
    try:
        host = parts.hostname  # drops user info, port, path, query; lower-cases
    except ValueError:
        host = None
    if not host:
        raise ValueError(f"{raw!r} does not contain a domain")
    host = host.strip().rstrip(".")
    try:
        host = _idna_host(host)
    except ValueError as exc:
        raise ValueError(f"{raw!r} is not a valid domain: {exc}") from None
    while host.startswith("www.") and host.count(".") > 1:
        host = host[len("www.") :]
    return host


def _idna_host(host: str) -> str:
    if not host:
        raise ValueError("no domain")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"cannot be IDNA-encoded ({exc})") from None
    host = host.lower()
    labels = host.split(".")
    if len(labels) < 2:
        raise ValueError("a domain needs a dot and a top-level domain")
    if len(host) > 253:
        raise ValueError("longer than 253 characters")
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(f"the label {label!r} is not a valid host name part")
    if labels[-1].isdigit():
        raise ValueError("an IP address is not a domain")
    return host


def is_role_account(local_part: str) -> bool:
    """Whether an address belongs to a function (info@, sales@, no-reply@) rather than a person.

    Accepts a full address too. Plus-tags and separators are ignored: ``No.Reply+x`` is ``noreply``.
    """
    local = (local_part or "").strip().lower()
    if "@" in local:
        local = local.rpartition("@")[0]
    local = local.split("+", 1)[0]
    squashed = re.sub(r"[._-]", "", local)
    return local in ROLE_LOCAL_PARTS or squashed in ROLE_LOCAL_PARTS


def is_disposable_domain(domain: str) -> bool:
    """Whether a domain (or an address, or a URL) belongs to a throw-away mail service; subdomains count."""
    try:
        host = normalize_domain(domain)
    except ValueError:
        return False
    labels = host.split(".")
    suffixes = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return bool(suffixes & DISPOSABLE_DOMAINS) or bool(suffixes & _maintained_disposable())


@functools.cache
def _maintained_disposable() -> frozenset[str]:
    """The community-maintained list (disposable-email-domains); ours adds the few it lacks."""
    from disposable_email_domains import blocklist

    return frozenset(blocklist)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no network


def registrable_domain(raw: str) -> str:
    """The domain a company registered: ``shop.example.co.uk`` -> ``example.co.uk`` (public suffix list).

    Stripping ``www.`` is not enough: ``eu.acme.com`` and ``acme.com`` are one company, and
    ``example.co.uk`` is not ``co.uk``. A host that is itself a public suffix is returned as is.
    """
    host = normalize_domain(raw)
    return _public_suffixes().privatesuffix(host) or host


def country_name(code: str) -> str:
    """``"US"`` -> ``"United States"``, ``"GB"`` -> ``"United Kingdom"``: the English name people write
    (CLDR's, through Babel), as a lead directory's location search expects it. The tz database's
    table is the fallback only: its names are terse labels for a zone picker ("Britain (UK)",
    "Korea (South)") that no directory search matches. Unknown: the code."""
    from babel import Locale  # CLDR data loads on first use: only the callers that need names pay

    cldr = Locale("en").territories.get(code.upper())
    if cldr:
        return str(cldr)
    for row_code, name, *_ in _tzdata_table("iso3166.tab"):
        if row_code == code.upper():
            return name
    return code


# --- phone --------------------------------------------------------------------------------------


def normalize_phone(raw: str, default_country: str | None = None) -> str:
    """An E.164 number (``+14155550123``) from any common notation; raises ValueError with the reason.

    ``default_country`` (a code or a country name) is used for numbers written without ``+``.
    """
    value = (raw or "").strip()
    if not value:
        raise ValueError("phone number is empty")
    region = normalize_country(default_country) if default_country else None
    candidate = value
    if candidate.startswith("00"):
        # The international call prefix most of the world uses; phonenumbers needs a region for it.
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError(
                f"{value!r} has no valid country code: write it as +<country code>… or give the lead's country"
            ) from None
        raise ValueError(f"{value!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{value!r} has the wrong number of digits for its country")
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "its country code"
        raise ValueError(f"{value!r} is not a valid number for {where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- country and time zone ----------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case, accent, punctuation and 'the'-insensitive key for country names."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]", " ", text)
    text = _WS.sub(" ", text).strip()
    return text.removeprefix("the ")


def _tzdata_table(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@functools.cache
def _country_names() -> dict[str, str]:
    """Folded name -> alpha-2, from the IANA tz database's ISO 3166 table plus common aliases."""
    names: dict[str, str] = {}
    for code, name, *_ in _tzdata_table("iso3166.tab"):
        names[_fold(name)] = code
        # "Korea (South)" -> also "korea"; the explicit aliases add "south korea" and friends.
        bare = re.sub(r"\s*\(.*\)", "", name)
        names.setdefault(_fold(bare), code)
    for alias, code in COUNTRY_ALIASES.items():
        names[_fold(alias)] = code
    return names


@functools.cache
def _country_codes() -> frozenset[str]:
    return frozenset(row[0] for row in _tzdata_table("iso3166.tab"))


def normalize_country(raw: str) -> str:
    """ISO 3166 alpha-2 (``"DE"``) from a code or an English name (``"Germany"``, ``"USA"``, ``"United Kingdom"``)."""
    value = (raw or "").strip()
    if not value:
        raise ValueError("country is empty")
    if len(value) == 2 and value.isalpha():
        code = value.upper()
        if code == "UK":  # not ISO, but what everyone writes
            return "GB"
        if code in _country_codes():
            return code
        raise ValueError(f"{value!r} is not an ISO 3166 country code")
    found = _country_names().get(_fold(value))
    if found is None:
        raise ValueError(f"{value!r} is not a country we recognise: use an ISO code such as 'DE' or an English name")
    return found


@functools.cache
def _time_zones() -> dict[str, str]:
    """Lower-cased name -> canonical IANA name."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def normalize_time_zone(raw: str) -> str:
    """A valid IANA zone name (``"Europe/Berlin"``), accepting any case and spaces for underscores."""
    value = (raw or "").strip()
    if not value:
        raise ValueError("time zone is empty")
    key = _WS.sub("_", value).lower()
    if key in {"z", "utc", "gmt", "etc/utc", "etc/gmt", "universal", "zulu"}:
        return "UTC"
    found = _time_zones().get(key)
    if found is None:
        raise ValueError(f"{value!r} is not an IANA time zone name such as 'Europe/Berlin'")
    return found


@functools.cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for code, _coords, zone, *_ in _tzdata_table("zone.tab"):
        zones.setdefault(code, []).append(zone)
    return {code: tuple(found) for code, found in zones.items()}


def _one_offset(zones: tuple[str, ...]) -> bool:
    """Whether all zones keep the same clock all year (then any of them is a correct guess)."""
    probes = [dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC), dt.datetime(2025, 7, 15, 12, tzinfo=dt.UTC)]
    return all(len({probe.astimezone(zoneinfo.ZoneInfo(z)).utcoffset() for z in zones}) == 1 for probe in probes)


def guess_time_zone(country: str | None, phone: str | None) -> str | None:
    """The lead's IANA zone when the phone number or the country pins it down; None when it would be a guess.

    A geographic phone number (its area code) wins; otherwise a country whose zones all share one clock
    (Germany, France, Japan). For countries spanning zones (US, Brazil) without a usable phone: None,
    so the send-window logic falls back to the campaign's policy rather than mailing at 3 a.m.
    """
    region: str | None = None
    if country:
        try:
            region = normalize_country(country)
        except ValueError:
            region = None
    if phone:
        try:
            number = phonenumbers.parse(normalize_phone(phone, region))
        except (ValueError, phonenumbers.NumberParseException):
            number = None
        if number is not None:
            zones = tuple(z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown")
            if zones and _one_offset(zones):
                return zones[0]
            region = region or phonenumbers.region_code_for_number(number)
    if region:
        zones = _zones_by_country().get(region, ())
        if zones and _one_offset(zones):
            return zones[0]
    return None


# --- names --------------------------------------------------------------------------------------

_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa", "dds", "msc", "bsc"}


def split_name(full: str) -> tuple[str, str]:
    """``"Dr. Jane van der Berg, PhD"`` -> ``("Jane", "van der Berg")``; ``"Doe, Jane"`` -> ``("Jane", "Doe")``.

    Titles and post-nominals are dropped; a single word is a first name. Names typed in all capitals or
    all lower case are title-cased; any other casing (``McDonald``, ``de Vries``) is kept.
    """
    text = _WS.sub(" ", (full or "").strip())
    if not text:
        return "", ""
    if text.count(",") == 1:
        before, after = (part.strip() for part in text.split(","))
        after_words = after.split(" ")
        if all(w.lower().strip(".") in _SUFFIXES for w in after_words):
            text = before  # "Jane Doe, PhD"
        elif before and after:
            text = f"{after} {before}"  # "Doe, Jane"
    words = [w for w in text.replace(",", " ").split(" ") if w]
    while words and words[0].lower().strip(".") in _HONORIFICS and len(words) > 1:
        words.pop(0)
    while words and words[-1].lower().strip(".") in _SUFFIXES and len(words) > 1:
        words.pop()
    if text.isupper() or text.islower():
        words = [w.title() if w.isupper() or w.islower() else w for w in words]
    if not words:
        return "", ""
    if len(words) > 2:
        # nameparser knows the titles, particles and post-nominals of many languages that the short
        # lists above do not (Sra., Ing., Mag., "bin", "della"); middle names stay with the last name.
        parsed = HumanName(" ".join(words))
        first, rest = parsed.first, " ".join(p for p in (parsed.middle, parsed.last) if p)
        if first and rest:
            return first, rest
    return words[0], " ".join(words[1:])
