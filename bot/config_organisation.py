"""The [organisation] section's checks: who runs this instance, as the public
accessibility statement names them. Empty is allowed (the statement then says it is
unfinished, and `needsfirst doctor` warns); what is given must be usable."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bot.config import ConfigError, OrganisationConfig
from bot.config_staff_email import EMAIL

PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,22}[0-9]$")
MAX_NAME = 120


def check_organisation(source: str, organisation: OrganisationConfig) -> None:
    name = organisation.name
    if name and (name != name.strip() or not name.isprintable() or len(name) > MAX_NAME):
        raise ConfigError(source, "organisation.name",
                          f"must be the council's name on one line, at most {MAX_NAME} characters")  # fmt: skip
    if organisation.contact_email and not EMAIL.match(organisation.contact_email):
        raise ConfigError(source, "organisation.contact_email",
                          f"{organisation.contact_email!r} is not an email address")  # fmt: skip
    phone = organisation.contact_phone
    if phone and not (PHONE.match(phone) and 6 <= sum(c.isdigit() for c in phone) <= 15):
        raise ConfigError(source, "organisation.contact_phone",
                          f"{phone!r} is not a phone number (digits, spaces, +, brackets)")  # fmt: skip
    if not 1 <= organisation.response_working_days <= 60:
        raise ConfigError(source, "organisation.response_working_days",
                          "must be from 1 to 60 working days")  # fmt: skip
    if organisation.statement_reviewed:
        reviewed_on(source, organisation.statement_reviewed)


def reviewed_on(source: str, text: str) -> date:
    """[organisation] statement_reviewed as a date: ISO form, and not in the future."""
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text, re.ASCII):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError as error:
        raise ConfigError(source, "organisation.statement_reviewed",
                          f'must be a date such as "2026-12-06", not {text!r}') from error  # fmt: skip
    # A day's grace: the council may be a time zone ahead of this server's UTC.
    if day > (datetime.now(UTC) + timedelta(days=1)).date():
        raise ConfigError(source, "organisation.statement_reviewed", f"{text} is in the future")
    return day
