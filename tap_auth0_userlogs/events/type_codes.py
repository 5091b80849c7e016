"""The reference table of log event type codes, each with a category analysts can group by."""

from __future__ import annotations

import csv
import re
from importlib import resources

# The `log_event_types` stream's records.
EVENT_TYPES_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
    },
    "required": ["code"],
}

# First match wins; order puts specific patterns before broad ones.
_CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("rate_limit", r"^(api_limit.*|limit_.*|appi|.*rate_limit_exceed)$"),
    ("mfa", r"^(gd_.*|mfar|passkey_challenge_.*|too_many_records)$"),
    ("management_api", r"^(sapi|fapi|mgmt_api_read)$"),
    ("signup", r"^(ss|fs|signup_pwd_leak|fpurh)$"),
    ("logout", r"^(slo|flo|.*logout.*)$"),
    ("password", r"^(s|f)cp(r|h)?$|^reset_pwd_leak$"),
    (
        "token_exchange",
        r"^(s|f)e[a-z]*ft$|^(s|f)(e|ede|ens|ecte|eta|dele)acft$|^(sede|fede|sens|fens|secte|fecte"
        r"|seta|feta|sertft|fertft|ferrt|srrt|sd|fd|seccft|feccft)$|.*exchange.*",
    ),
    (
        "login_success",
        r"^(s|ssa|scoa|sdel|sdelsa|scv|ss_sso_success)$",
    ),
    (
        "login_failure",
        r"^(f|fp|fu|fsa|fcoa|fco|fdelsa|pwd_leak|fc|ss_sso_failure)$",
    ),
    (
        "account_change",
        r"^(s|f)c(e|u|pn)$|^(s|f)du$|^du$|^(sv|fv|fvr|svr|si|fi)$|^(sui|fui|sscim|fscim)$|^ublkdu$"
        r"|^connected_accounts_.*$|^organization_member_added$|^my_account_.*$",
    ),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _CATEGORY_RULES)
CATEGORIES = (*(name for name, _ in _CATEGORY_RULES), "other")


def category_of(code: str) -> str:
    """The category of a type code; codes no rule knows (including new ones) are `other`."""
    for name, pattern in _COMPILED:
        if pattern.match(code):
            return name
    return "other"


def load_event_types() -> list[dict[str, str]]:
    """Every known type code with its description, status and category, from package data."""
    text = (
        resources.files("tap_auth0_userlogs.events").joinpath("type_codes.tsv").read_text("utf-8")
    )
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return [
        {
            "code": row["code"],
            "description": row["description"],
            "status": row["status"],
            "category": category_of(row["code"]),
        }
        for row in rows
    ]
