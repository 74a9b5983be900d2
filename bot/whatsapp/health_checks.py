"""`needsfirst doctor`'s WhatsApp check: the phone number object on the Graph API,
read with the configured token (the token, the number's id and the version at once)."""

from __future__ import annotations

import aiohttp

from bot.actions.doctor import Finding
from bot.config import Config
from bot.whatsapp.client import CloudApi, CloudError


async def whatsapp(config: Config) -> list[Finding]:
    settings = config.whatsapp
    if not settings.phone_number_id:
        return [Finding("ok", "whatsapp", "off: no [whatsapp] phone_number_id")]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        api = CloudApi(session, base_url=settings.base_url, version=settings.api_version,
                       phone_number_id=settings.phone_number_id,
                       access_token=settings.access_token)  # fmt: skip
        try:
            number = await api.phone_number()
        except CloudError as error:
            if error.status == 0:
                return [Finding("fail", "whatsapp", f"cannot reach {settings.base_url}: "
                                f"{error.detail}")]  # fmt: skip
            hint = " (the access token is refused)" if error.status == 401 else ""
            return [Finding("fail", "whatsapp", f"{error}{hint}")]
    shown = str(number.get("display_phone_number", ""))
    digits = "".join(c for c in shown if c.isdigit())
    described = (f"{shown} ({number.get('verified_name', '?')}), quality "
                 f"{number.get('quality_rating', '?')}")  # fmt: skip
    if settings.display_number and digits != settings.display_number:
        return [Finding("warn", "whatsapp", f"the number is {described}, but [whatsapp] "
                        f"display_number is {settings.display_number}: partners' links "
                        "would open another chat")]  # fmt: skip
    return [Finding("ok", "whatsapp", f"the token reads the number: {described}")]
