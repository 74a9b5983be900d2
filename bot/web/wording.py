"""The web chat's notices: a word after a redirect (`?notice=`), in English.

Everything else a public page says is in its template; conversations/locale's catalogues
translate both (docs/translating.md).
"""

from __future__ import annotations

from conversations.locale import N_
from conversations.locale.catalogues import translate

NOTICES: dict[str, str] = {
    "forgotten": N_(
        "We have deleted all we held about you. You can take part again as someone new."
    ),
    "afresh": N_("This device has a fresh start."),
    "too_long": N_("That answer was too long. Please keep it under 4,096 characters."),
    "empty": N_("Please type an answer before pressing Send."),
    "busy": N_(
        "Lots of people have joined from this internet link in the last hour. So we can't "
        "add one more just now. Please try again later, or use Telegram."
    ),
    "contact_saved": N_("Thank you. We will use it only to tell you what happens next."),
    "contact_invalid": N_(
        "That isn't a UK mobile number or an email address we can use. Please check it."
    ),
    "contact_removed": N_("Removed. We no longer hold it."),
    "contact_nobody": N_("Please take part first: then you can leave a way to hear back."),
}


CHAT_NOTICES = ("forgotten", "afresh", "too_long", "empty", "busy")
DATA_NOTICES = ("contact_saved", "contact_invalid", "contact_removed", "contact_nobody")


def notice_text(notice: str | None, language: str, shown: tuple[str, ...]) -> str:
    """The notice `notice` in `language` if the page shows it; nothing otherwise."""
    return translate(language, NOTICES[notice]) if notice in shown else ""
