"""What the service says outside a script: help, data rights, joining.

The English is the message id in conversations/locale's PO files, where each language's
translation is (docs/translating.md); a language without one reads in English.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from conversations.flow.wording import Plural, worded
from conversations.locale import N_, NN_, NP_

# Dates residents read are in the time of the places consulted (UK councils).
LOCAL_TIME = ZoneInfo("Europe/London")

TEXTS: dict[str, str | Plural] = {
    "slow_down": N_(
        "That's a lot of messages very fast. So I'll stop for a minute. Please send your answer again soon."
    ),
    "abuse_pause": N_(
        "Let's take a short pause here. Your answers so far are saved, and you can carry on in a few minutes."
    ),
    "reminder": N_(
        "Hello again. You started telling us what makes life harder where you live, and we'd still love to hear the rest. It only takes a few minutes. (This is the only reminder we'll send. Send /stop for no more messages.)"
    ),
    "reminder_button": N_("Carry on"),
    "get_help": N_(
        "Thank you for telling us. If you or someone else is in danger right now, please call 999 now.\n\n• Samaritans will listen now, day or night, free: call 116 123.\n• National Domestic Abuse Helpline, free, 24 hours: 0808 2000 247.\n• Nowhere safe to sleep tonight: Shelter's free helpline 0808 800 4444 (in Wales, Shelter Cymru 08000 495 495), or your council's out-of-hours housing line.\n{local}\n\nNo one watches this chat all the time. But someone from our team that keeps people safe will read what you wrote."
    ),
    "get_support": N_(
        "Thank you for telling us. It sounds like things are really hard, and you don't have to deal with this alone. If you would like to talk to someone:\n\n• Samaritans listen any time, day or night, free: call 116 123.\n• National Domestic Abuse Helpline, free, 24 hours: 0808 2000 247.\n{local}\n\nSomeone from the team who looks after people's safety will read what you wrote. If anyone is in danger right now, call 999."
    ),
    "help": N_(
        "Needs First asks people what makes life harder where they live, so that the council and its partners can start from what people need.\n\n/start – take part, or carry on where you left off\n/language – choose English or Welsh\n/mydata – see everything we hold about you\n/forget – delete everything we hold about you\n/stop – no more invitations from us\n/help – this message\n\nYour answers are stored without your name. If you are in danger, call 999."
    ),
    "choose": N_("Which consultation would you like to take part in?"),
    "none_open": N_(
        "There are no consultations open right now. We'll let you know when one opens (send /stop if you'd rather we didn't)."
    ),
    "unknown_consultation": N_("I couldn't find a consultation called “{slug}”."),
    "closed_consultation": N_("“{slug}” isn't open right now."),
    "round_closed": N_(
        "This consultation round has closed, so I can't take new answers. Thank you!"
    ),
    "results_link": N_("You can read what people said, and what was done about it, here: {url}"),
    "next_round": N_("The next round opens on {opens}."),
    "next_round_until": N_("The next round opens on {opens} and closes on {closes}."),
    "unknown_button": N_("Sorry, I didn't recognise that button. Send /start to carry on."),
    "stopped": N_(
        "OK, we won't send you any more invitations. Your answers stay unless you send /forget. Send /start any time to take part again."
    ),
    "nothing_held": N_("We don't hold any information about you."),
    "forget_ask": N_(
        "This deletes everything we hold about you. That is your answers, your yes to take part, and the link between this chat and you. You can't get it back. Delete everything?"
    ),
    "forget_yes": N_("Yes, delete everything"),
    "forget_no": N_("No, keep it"),
    "forget_cancelled": N_("OK, nothing has been deleted."),
    "forgotten": N_(
        "Done. Everything we held about you has been deleted. If you send /start again, we'll treat you as someone new."
    ),
    "forgotten_flag_kept": N_(
        "We keep one thing for now: what you told us that made us worried you may not be safe. A person whose job is to keep people safe will read it, so that someone can help. Then we delete it too."
    ),
    "mydata_intro": NN_(
        "Here is what we hold about you ({count} answer):",
        "Here is what we hold about you ({count} answers):",
    ),
    "mydata_outro": N_(
        "The attached file has all of it, including your consent. Send /forget to delete it."
    ),
    "language_ask": N_("Which language would you like?"),
    "language_saved": N_("Thank you, I've saved your language."),
    "unknown_command": N_("Sorry, I don't know that command. Send /help to see what I can do."),
    "staff_only": N_(
        "Sorry, that command is only for the consultation team. Send /help to see what you can do."
    ),
}


# A channel's own wording of the texts above, as that channel offers the same thing: the
# web chat has buttons and links where Telegram has /commands; WhatsApp has no command
# menu, so its residents type the same words, with or without the slash. Each channel is
# the message's context (msgctxt) in the catalogues. Texts only Telegram ever sends (help,
# reminders, unknown commands) have no web wording.
CHANNEL_TEXTS: dict[str, dict[str, str | Plural]] = {
    "web": {
        "none_open": NP_(
            "web", "There are no consultations open right now. Please come back later."
        ),
        "unknown_button": NP_(
            "web",
            "Sorry, I don't know that button. To carry on, please use the buttons or the answer box below.",
        ),
        "stopped": NP_(
            "web",
            "OK, we won't ask you to take part again. This web chat can't send you messages anyway. We keep your answers. To delete them, press “Delete my data” below.",
        ),
        "forgotten": NP_(
            "web",
            "Done. Everything we held about you has been deleted. If you take part again, we'll treat you as someone new.",
        ),
        "mydata_outro": NP_(
            "web",
            "The file has all of it, including your consent. Choose “Delete my data” to delete it.",
        ),
    },
    "whatsapp": {
        "help": NP_(
            "whatsapp",
            "Needs First asks people what makes life harder where they live, so that the council and its partners can start from what people need.\n\nSend one of these words:\nSTART – take part, or carry on where you left off\nLANGUAGE – choose English or Welsh\nMYDATA – see everything we hold about you\nFORGET – delete everything we hold about you\nSTOP – no more invitations from us\nHELP – this message\n\nYour answers are stored without your name or number. If you are in danger, call 999.",
        ),
        "reminder": NP_(
            "whatsapp",
            "Hello again. You started telling us what makes life harder where you live, and we'd still love to hear the rest. It only takes a few minutes: send START to carry on where you left off. (This is the only reminder we'll send. Send STOP for no more messages.)",
        ),
    },
}


def service_text(key: str, language: str, *, channel: str | None = None, **values: str) -> str:
    """The text `key` in `language` (English if missing) as `channel` words it, filled in."""
    count = int(values["count"]) if "count" in values else None
    text = worded(key, language, channel, TEXTS, CHANNEL_TEXTS, count)
    return text.format(**values) if values else text


def a_date(moment: datetime, language: str, *, with_time: bool = True) -> str:
    """A stored (UTC) time as residents read it: "6 December 2026, 09:00", local time, with
    the month named in the reader's language (CLDR's names, which Babel carries)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL_TIME)
    day = format_date(local.date(), "d MMMM y", locale=language)
    return f"{day}, {local:%H:%M}" if with_time else day
