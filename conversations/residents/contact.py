"""A resident leaving a mobile number or an email address to hear back, and
removing it: checked here, kept by conversations/storage/contacts.py.

A UK mobile number is read with `phonenumbers` (Google's libphonenumber), which
knows the UK's numbering plan, and kept in E.164 form (+447700900123), the form
GOV.UK Notify accepts. An email address is checked for its shape only (one @,
a dotted domain, no spaces): whether it is theirs is up to them, as on any form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from sqlmodel import Session

from conversations.storage import contacts

MAX_EMAIL = 320
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")


@dataclass(frozen=True)
class Contact:
    kind: str  # sms | email
    address: str


def read_contact(given: str) -> Contact | None:
    """A UK mobile number or an email address from what the resident typed, or None."""
    text = given.strip()
    if not text or len(text) > MAX_EMAIL:
        return None
    if "@" in text:
        return Contact("email", text) if _EMAIL.match(text) and ".." not in text else None
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    if (
        number.country_code != 44
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        return None
    return Contact("sms", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def leave_contact(*, session: Session, resident_id: int, given: str) -> Contact | None:
    """Keep what they typed if it is a UK mobile or an email address; None if not."""
    contact = read_contact(given)
    if contact is not None:
        contacts.keep(
            session=session, resident_id=resident_id, kind=contact.kind, address=contact.address
        )
    return contact


def remove_contact(*, session: Session, resident_id: int, kind: str | None = None) -> int:
    return contacts.remove(session=session, resident_id=resident_id, kind=kind)
