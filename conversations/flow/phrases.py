"""The engine's own words (buttons and nudges), in English: the catalogues translate them.

Scripts hold the consultation's questions; these are the few phrases the engine itself
needs. The English is the message id in conversations/locale's PO files, where each
language's translation is; a language without one reads in English.
"""

from __future__ import annotations

from conversations.flow.wording import worded
from conversations.locale import N_, NP_

PHRASES: dict[str, str] = {
    "yes": N_("Yes"),
    "no": N_("No"),
    "skip": N_("Skip"),
    "done": N_("Done"),
    "confirm": N_("Yes, that's right"),
    "change": N_("Change: {label}"),
    "changing": N_("OK, let's change that."),
    "skipped": N_("(skipped)"),
    "use_buttons": N_("Please press a button below, or type one of the answers."),
    "choose_one": N_("Please choose at least one option, then press Done."),
    "exclusive_alone": N_(
        "You can't pick “{label}” with other answers. So I took the ticks off the others."
    ),
    "exclusive_unticked": N_("I've unticked “{label}”, as it can't go with other answers."),
    "exclusive_typed": N_("“{label}” can't go with other answers. Please choose again."),
    "empty_text": N_("I didn't catch any words there. Could you type your answer?"),
    "stale_button": N_("That button belongs to an earlier question. Here is where we are:"),
    "welcome_back": N_("Welcome back. Here is where we got to:"),
    "unsupported": N_("Sorry, I can only read typed messages. Please type your answer."),
    "unsupported_voice": N_(
        "Thank you. I can't listen to voice messages yet, so please type your answer instead."
    ),
    "finished": N_(
        "You have already finished this consultation. Thank you! Send /mydata to see what we hold, or /help for other options."
    ),
    "declined_again": N_(
        "You chose not to take part, so nothing from you is stored. If you change your mind, send /start."
    ),
    "language_set": N_("I'll speak English from now on."),
    "edited": N_(
        "I've changed your answer to match your edit. You'll see all your answers again before they count."
    ),
    "edited_ignored": N_(
        "I saw you edited an earlier message. I've kept your answer as it was. You can change it when I read your answers back."
    ),
}


# A channel's own wording of the phrases that name Telegram commands (see
# conversations.residents.texts.CHANNEL_TEXTS): the web chat has buttons for them instead.
CHANNEL_PHRASES: dict[str, dict[str, str]] = {
    "web": {
        "finished": NP_(
            "web",
            "You have already finished. Thank you! Choose “See my data” below to see what we hold about you.",
        ),
        "declined_again": NP_(
            "web",
            "You chose not to take part, so nothing from you is stored. If you change your mind, press “Take part” below.",
        ),
    },
}


def phrase(key: str, language: str, channel: str | None = None) -> str:
    """The engine phrase `key` in `language` as `channel` words it, falling back to English."""
    return worded(key, language, channel, PHRASES, CHANNEL_PHRASES)
