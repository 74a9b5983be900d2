"""The [whatsapp] section's checks: all or nothing, each key named when wrong."""

from __future__ import annotations

import re

from bot.config import ConfigError, WhatsAppConfig

TIERS = (0, 250, 1000, 2000, 10_000, 100_000)
# Meta's template names: lower case letters, digits and underscores.
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def check_whatsapp(source: str, whatsapp: WhatsAppConfig) -> None:
    if not whatsapp.phone_number_id:
        return
    if not whatsapp.phone_number_id.isdigit():
        raise ConfigError(source, "whatsapp.phone_number_id",
                          "must be the number's id from Meta's WhatsApp Manager (digits)")  # fmt: skip
    number = whatsapp.display_number
    if number and not (number.isdigit() and 8 <= len(number) <= 15):
        raise ConfigError(source, "whatsapp.display_number",
                          "must be the number in international form, digits only (447700900100)")  # fmt: skip
    for key in ("access_token", "app_secret", "verify_token"):
        if not getattr(whatsapp, key):
            variable = f"NEEDSFIRST_WHATSAPP_{key.upper()}"
            raise ConfigError(source, f"whatsapp.{key}", f"WhatsApp needs it (or {variable})")
    if len(whatsapp.verify_token) < 16:
        raise ConfigError(source, "whatsapp.verify_token", "must be 16 characters or more")
    base = whatsapp.base_url
    if not (base.startswith("https://") or base.startswith("http://127.")):
        raise ConfigError(source, "whatsapp.base_url", "must be an https:// URL")
    if not re.fullmatch(r"v\d+\.\d+", whatsapp.api_version):
        raise ConfigError(
            source, "whatsapp.api_version", 'must be a Graph API version such as "v21.0"'
        )
    if not 1 <= whatsapp.throughput <= 1000:
        raise ConfigError(source, "whatsapp.throughput", "must be from 1 to 1000 messages a second")
    if whatsapp.daily_limit not in TIERS:
        raise ConfigError(source, "whatsapp.daily_limit",
                          "must be a messaging limit tier: " + ", ".join(map(str, TIERS)))  # fmt: skip
    for key in ("invitation_template", "reminder_template", "decision_template"):
        name = getattr(whatsapp, key)
        if name and not TEMPLATE_NAME.match(name):
            raise ConfigError(source, f"whatsapp.{key}",
                              "a template name is lower-case letters, digits and underscores")  # fmt: skip
    template_languages(source, whatsapp.template_languages)


def template_languages(source: str, pairs: tuple[str, ...]) -> dict[str, str]:
    """("en=en_GB", "cy=cy") -> {"en": "en_GB", "cy": "cy"}, or a clear error."""
    found: dict[str, str] = {}
    for pair in pairs:
        ours, equals, theirs = pair.partition("=")
        if not equals or not ours.strip() or not LANGUAGE_CODE.match(theirs.strip()):
            raise ConfigError(source, "whatsapp.template_languages",
                              f'{pair!r} should be "our language=WhatsApp code", as "en=en_GB"')  # fmt: skip
        found[ours.strip()] = theirs.strip()
    if "en" not in found:
        raise ConfigError(source, "whatsapp.template_languages", 'needs English ("en=en_GB")')
    return found
