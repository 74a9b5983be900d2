"""Staff who are not on Telegram: [staff] *_emails, and the Notify templates they need.

Their sign-in links and officers' digests go through GOV.UK Notify with [notify]'s
API key, so listing an address needs that key and the template it will use.
"""

from __future__ import annotations

import re

from bot.config import ConfigError, NotifyConfig, StaffConfig

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KEYS = ("facilitator_emails", "officer_emails", "admin_emails", "safeguarding_emails")


def check_staff_emails(source: str, staff: StaffConfig, notify: NotifyConfig) -> None:
    for key in KEYS:
        for address in getattr(staff, key):
            if not EMAIL.match(address):
                raise ConfigError(source, f"staff.{key}", f"{address!r} is not an email address")
    for key in ("digest_template_id", "sign_in_template_id"):
        value = getattr(notify, key)
        if value and not UUID.match(value):
            raise ConfigError(source, f"notify.{key}",
                              "must be the id of a Notify email template (a UUID)")  # fmt: skip
    if not staff.emails:
        return
    listed = next(f"staff.{key}" for key in KEYS if getattr(staff, key))
    if not notify.api_key:
        raise ConfigError(source, "notify.api_key",
                          f"{listed} needs GOV.UK Notify to email sign-in links: set the API key "
                          "(or NEEDSFIRST_NOTIFY_API_KEY)")  # fmt: skip
    if not notify.sign_in_template_id:
        raise ConfigError(source, "notify.sign_in_template_id",
                          f"{listed} needs the id of a Notify email template for sign-in links, "
                          "with ((link)) and ((minutes))")  # fmt: skip
    if staff.officer_emails and not notify.digest_template_id:
        raise ConfigError(source, "notify.digest_template_id",
                          "staff.officer_emails needs the id of a Notify email template for the "
                          "digest, with ((consultation)), ((period)), ((summary)), ((link)) and "
                          "((link_to_file))")  # fmt: skip
