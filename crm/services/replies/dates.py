"""The return date an out-of-office reply gives, in the forms people actually write.

dateparser would do this but pulls in a large dependency for a handful of forms; these cover
"back on 12 March", "until 3/14", "returning Monday 2 June", "bis zum 17.03.2025", "jusqu'au 11 mars",
"hasta el 18 de marzo" and ISO dates. A date is read relative to when the reply was received:
a date without a year is the next one after it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MONTHS: dict[str, int] = {}
for number, names in enumerate(
    (
        "january jan januar janvier janv enero ene gennaio januari",
        "february feb februar fevrier fevr fev febrero febbraio februari",
        "march mar marz maerz mars marzo maart",
        "april apr avril abril aprile",
        "may mai mayo maggio mei",
        "june jun juni juin junio giugno",
        "july jul juli juillet juil julio luglio",
        "august aug aout agosto augustus ago",
        "september sep sept septembre septiembre settembre",
        "october oct oktober octobre octubre ottobre okt",
        "november nov novembre noviembre",
        "december dec dezember decembre diciembre dicembre dez dic",
    ),
    start=1,
):
    for name in names.split():
        MONTHS.setdefault(name, number)
WEEKDAYS: dict[str, int] = {}
for number, names in enumerate(
    (
        "monday mon montag lundi lunes",
        "tuesday tue tues dienstag mardi martes",
        "wednesday wed mittwoch mercredi miercoles",
        "thursday thu thur thurs donnerstag jeudi jueves",
        "friday fri freitag vendredi viernes",
        "saturday sat samstag samedi sabado",
        "sunday sun sonntag dimanche domingo",
    )
):
    for name in names.split():
        WEEKDAYS[name] = number

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|er|e|o|º)?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")),
    ("dmy_dot", re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})?")),
    ("slash", re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2,4}))?\b")),
    (
        "day_month",
        re.compile(
            rf"\b(?P<d>\d{{1,2}}){_ORD}\.?\s*(?:de\s+|of\s+)?(?P<mon>{_MONTH})\b\.?(?:,?\s*(?:de\s+)?(?P<y>\d{{4}}))?"
        ),
    ),
    ("month_day", re.compile(rf"\b(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s*(?P<y>\d{{4}}))?")),
    ("weekday", re.compile(rf"\b(?P<wd>{_WEEKDAY})\b")),
    # "until 14": the sandbox's form, a day of this or next month
    (
        "day_only",
        re.compile(rf"\b(?:until|till|til|through|back on|back the)\s+(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\b(?![./:\d])"),
    ),
    ("relative", re.compile(r"\b(?P<rel>tomorrow|morgen|demain|manana|next week)\b")),
)
# Words after which a date is the day the person is back, strongest first; "until"-like words
# name the last day away only when marked inclusive, otherwise they are read as the return day.
_RETURN = re.compile(
    r"\b(back|return\w*|wieder|zuruck|ab dem|ab|de retour|retour|regres\w*|vuelta|reincorpor\w*|rientro)\b"
)
_UNTIL = re.compile(r"\b(until|till|til|through|thru|bis|jusqu|hasta|fino al|tot)\b")
_DATE_FOLLOWS = re.compile(r"[,.]?\s*(?:the\s+|den\s+|le\s+|el\s+)?\d")
_INCLUSIVE = re.compile(r"^[^.\n]{0,40}?\b(inclusive|inclus|einschliesslich|incluido|included)\b")


def fold(text: str) -> str:
    """Lower-case without accents, so "März", "Marz" and "MÄRZ" match one pattern."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).replace("ß", "ss")


def return_date(text: str, *, received: dt.date) -> dt.date | None:
    """The day the writer is back, or None when the text names no date.

    The date after a "back/return" word wins over one after "until"; with neither, the first date
    in the text that lies after ``received`` is taken (an OOO rarely mentions any other).
    """
    folded = fold(text)
    found = _dates(folded, received=received)
    if not found:
        return None
    for marker in (_RETURN, _UNTIL):
        for hit in marker.finditer(folded):
            after = [(start, day, end) for start, day, end in found if 0 <= start - hit.end() <= 40]
            if after:
                start, day, end = min(after)
                inclusive = _INCLUSIVE.match(folded[end:]) or "einschliesslich" in folded[hit.end() : start]
                if marker is _UNTIL and inclusive:
                    day += dt.timedelta(days=1)
                return day
    future = [day for _, day, _ in found if day > received]
    return min(future) if future else None


def _dates(folded: str, *, received: dt.date) -> list[tuple[int, dt.date, int]]:
    """(position, date, end) for every date expression, the most specific reading of each span."""
    found: list[tuple[int, dt.date, int]] = []
    taken: list[range] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            if any(match.start() in span or match.end() - 1 in span for span in taken):
                continue  # "Monday 2 June" is read once, as 2 June
            if kind == "weekday" and _DATE_FOLLOWS.match(folded, match.end()):
                continue  # "Monday 2 June": the weekday only names the date that follows
            day = _resolve(kind, match, received)
            if day:
                found.append((match.start(), day, match.end()))
                taken.append(range(match.start(), match.end()))
    return sorted(found)


def _resolve(kind: str, match: re.Match[str], received: dt.date) -> dt.date | None:
    groups = match.groupdict()
    year = _year(groups.get("y"))
    if kind == "weekday":
        ahead = (WEEKDAYS[groups["wd"]] - received.weekday()) % 7 or 7
        return received + dt.timedelta(days=ahead)
    if kind == "relative":
        if groups["rel"] == "next week":
            return received + dt.timedelta(days=7 - received.weekday())
        return received + dt.timedelta(days=1)
    if kind == "day_only":
        return _next(received, None, int(groups["d"]), None)
    if kind == "slash":
        first, second = int(groups["a"]), int(groups["b"])
        # US month/day unless the first number cannot be a month ("21/03/2025").
        month, day = (second, first) if first > 12 else (first, second)
        return _next(received, month, day, year)
    month = int(groups["m"]) if groups.get("m") else MONTHS[groups["mon"]]
    return _next(received, month, int(groups["d"]), year)


def _year(value: str | None) -> int | None:
    if not value:
        return None
    number = int(value)
    return number + 2000 if number < 100 else number


def _next(received: dt.date, month: int | None, day: int, year: int | None) -> dt.date | None:
    """The date itself when the year is given, else its next occurrence on or after ``received``."""
    if year:
        return _safe(year, month or received.month, day)
    for offset in range(13):
        base_month = (received.month - 1 + offset) % 12 + 1 if month is None else month
        base_year = received.year + (received.month - 1 + offset) // 12 if month is None else received.year + offset
        candidate = _safe(base_year, base_month, day)
        if candidate and candidate >= received:
            return candidate
    return None


def _safe(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
