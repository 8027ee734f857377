"""Dates as an operations console reads them: ISO order, 24-hour time, UTC (settings.TIME_ZONE).

"2026-12-05 08:29" is a third of the width of "Dec. 5, 2026, 8:29 a.m." in a changelist column,
sorts as text and reads the same in every country. Only display formats change; what a form
accepts is Django's "en" input formats, which already include these.
"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
