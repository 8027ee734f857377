"""Small reference lists shipped with the code (no network look-ups at runtime)."""

from __future__ import annotations

# Local parts that name a function, not a person. Compared with separators removed as well,
# so "no-reply" and "no.reply" match "noreply".
ROLE_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        "abuse", "accounting", "accounts", "admin", "administrator", "billing", "bookings", "careers",
        "contact", "contactus", "customercare", "customerservice", "customersupport", "dev", "enquiries",
        "enquiry", "feedback", "finance", "hello", "help", "helpdesk", "hi", "hostmaster", "hr", "info",
        "information", "inquiries", "inquiry", "invoices", "it", "jobs", "legal", "mail", "mailerdaemon",
        "marketing", "media", "newsletter", "noreply", "no-reply", "donotreply", "office", "ops", "orders",
        "partners", "payments", "postmaster", "press", "privacy", "recruiting", "recruitment", "reception",
        "root", "sales", "security", "service", "support", "sysadmin", "team", "tech", "webmaster", "welcome",
    }
)  # fmt: skip

# The throw-away mail services seen most often in sign-up and scraped data; subdomains match too.
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(
    {
        "10minutemail.com", "20minutemail.com", "33mail.com", "anonaddy.me", "burnermail.io",
        "discard.email", "dispostable.com", "emailondeck.com", "fakeinbox.com", "getairmail.com",
        "getnada.com", "guerrillamail.biz", "guerrillamail.com", "guerrillamail.de", "guerrillamail.info",
        "guerrillamail.net", "guerrillamail.org", "guerrillamailblock.com", "harakirimail.com",
        "inboxbear.com", "incognitomail.org", "jetable.org", "mail.tm", "mailcatch.com", "maildrop.cc",
        "mailinator.com", "mailinator.net", "mailnesia.com", "mailpoof.com", "mintemail.com",
        "moakt.com", "mohmal.com", "mytemp.email", "nada.email", "sharklasers.com", "spam4.me",
        "spamgourmet.com", "temp-mail.io", "temp-mail.org", "tempail.com", "tempmail.com",
        "tempmail.dev", "tempmailo.com", "tempr.email", "throwawaymail.com", "trashmail.com",
        "trashmail.de", "trashmail.net", "yopmail.com", "yopmail.fr", "yopmail.net",
    }
)  # fmt: skip

# Names and codes people write that the ISO 3166 table (from the IANA tz database) does not list.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "south korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "russian federation": "RU", "czech republic": "CZ", "holland": "NL", "netherlands": "NL",
    "deutschland": "DE", "uae": "AE", "viet nam": "VN", "ivory coast": "CI", "cote d'ivoire": "CI",
    "macedonia": "MK", "burma": "MM", "swaziland": "SZ", "turkiye": "TR", "democratic republic of the congo": "CD",
    "republic of the congo": "CG", "vatican": "VA", "hong kong sar": "HK", "taiwan roc": "TW",
    "bosnia": "BA", "trinidad": "TT", "espana": "ES", "brasil": "BR", "schweiz": "CH", "osterreich": "AT",
    # ISO alpha-3 codes of the markets we sell to most.
    "gbr": "GB", "deu": "DE", "fra": "FR", "esp": "ES", "ita": "IT", "nld": "NL",
    "bel": "BE", "che": "CH", "aut": "AT", "swe": "SE", "nor": "NO", "dnk": "DK", "fin": "FI",
    "irl": "IE", "prt": "PT", "pol": "PL", "cze": "CZ", "can": "CA", "aus": "AU", "nzl": "NZ",
    "ind": "IN", "sgp": "SG", "are": "AE", "isr": "IL", "jpn": "JP", "bra": "BR", "mex": "MX", "zaf": "ZA",
}  # fmt: skip

# Consumer mailbox providers: an address here says nothing about the person's company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aol.com", "gmail.com", "googlemail.com", "gmx.com", "gmx.de", "gmx.net", "hey.com", "hotmail.com",
        "hotmail.co.uk", "hotmail.de", "icloud.com", "live.com", "mac.com", "mail.com", "mail.ru", "me.com",
        "msn.com", "outlook.com", "outlook.de", "pm.me", "proton.me", "protonmail.com", "qq.com", "t-online.de",
        "web.de", "yahoo.co.uk", "yahoo.com", "yahoo.de", "yahoo.fr", "yandex.ru", "zoho.com", "163.com",
    }
)  # fmt: skip
