"""The engine's own words (buttons and nudges), in every language we ship.

Scripts hold the consultation's questions; these are the few phrases the engine
itself needs. A language without an entry falls back to English.
"""

from __future__ import annotations

from conversations.flow.wording import worded

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "yes": "Yes",
        "no": "No",
        "skip": "Skip",
        "done": "Done",
        "confirm": "Yes, that's right",
        "change": "Change: {label}",
        "changing": "OK, let's change that.",
        "skipped": "(skipped)",
        "use_buttons": "Please choose one of the buttons below, or type one of the answers.",
        "choose_one": "Please choose at least one option, then press Done.",
        "exclusive_alone": "“{label}” can't go with other answers, so I've unticked the others.",
        "exclusive_unticked": "I've unticked “{label}”, as it can't go with other answers.",
        "exclusive_typed": "“{label}” can't go with other answers. Please choose again.",
        "empty_text": "I didn't catch any words there. Could you type your answer?",
        "stale_button": "That button belongs to an earlier question. Here is where we are:",
        "welcome_back": "Welcome back. Here is where we got to:",
        "unsupported": "Sorry, I can only read typed messages. Please type your answer.",
        "unsupported_voice": (
            "Thank you. I can't listen to voice messages yet, so please type your answer instead."
        ),
        "finished": (
            "You have already finished this consultation. Thank you! "
            "Send /mydata to see what we hold, or /help for other options."
        ),
        "declined_again": (
            "You chose not to take part, so nothing from you is stored. "
            "If you change your mind, send /start."
        ),
        "language_set": "I'll speak English from now on.",
        "edited": (
            "I've updated your answer to the text you edited. "
            "You'll see everything again before it counts."
        ),
        "edited_ignored": (
            "I saw you edited an earlier message. I've kept your answer as it was; "
            "you can change it when I read your answers back."
        ),
    },
    "cy": {
        "yes": "Ie",
        "no": "Na",
        "skip": "Hepgor",
        "done": "Wedi gorffen",
        "confirm": "Ydy, mae hynny'n gywir",
        "change": "Newid: {label}",
        "changing": "Iawn, gadewch i ni newid hynny.",
        "skipped": "(wedi'i hepgor)",
        "use_buttons": "Dewiswch un o'r botymau isod, neu teipiwch un o'r atebion, os gwelwch "
        "yn dda.",
        "choose_one": "Dewiswch o leiaf un opsiwn, yna pwyswch Wedi gorffen.",
        "exclusive_alone": "Does dim modd dewis “{label}” gydag atebion eraill, felly rydw i "
        "wedi dad-dicio'r lleill.",
        "exclusive_unticked": "Rydw i wedi dad-dicio “{label}”, gan nad oes modd ei ddewis "
        "gydag atebion eraill.",
        "exclusive_typed": "Does dim modd dewis “{label}” gydag atebion eraill. Dewiswch eto, "
        "os gwelwch yn dda.",
        "empty_text": "Welais i ddim geiriau yno. Allwch chi deipio eich ateb?",
        "stale_button": "Mae'r botwm hwnnw'n perthyn i gwestiwn cynharach. Dyma ble rydyn ni:",
        "welcome_back": "Croeso'n ôl. Dyma ble roedden ni:",
        "unsupported": "Mae'n ddrwg gen i, dim ond negeseuon wedi'u teipio y gallaf eu darllen. "
        "Teipiwch eich ateb, os gwelwch yn dda.",
        "unsupported_voice": "Diolch. Alla i ddim gwrando ar negeseuon llais eto, "
        "felly teipiwch eich ateb yn lle hynny.",
        "finished": "Rydych chi eisoes wedi gorffen yr ymgynghoriad hwn. Diolch! "
        "Anfonwch /mydata i weld beth sydd gennym, neu /help am opsiynau eraill.",
        "declined_again": "Fe wnaethoch chi ddewis peidio â chymryd rhan, felly does dim "
        "yn cael ei gadw. Os byddwch chi'n newid eich meddwl, anfonwch /start.",
        "language_set": "Bydda i'n siarad Cymraeg o hyn ymlaen.",
        "edited": "Rydw i wedi diweddaru eich ateb i'r testun a olygwyd gennych. "
        "Byddwch chi'n gweld popeth eto cyn iddo gyfrif.",
        "edited_ignored": "Gwelais i chi olygu neges gynharach. Rydw i wedi cadw eich ateb "
        "fel yr oedd; gallwch ei newid pan fydda i'n darllen eich atebion yn ôl.",
    },
}


# A channel's own wording of the phrases that name Telegram commands (see
# conversations.residents.texts.CHANNEL_TEXTS): the web chat has buttons for them instead.
CHANNEL_PHRASES: dict[str, dict[str, dict[str, str]]] = {
    "web": {
        "en": {
            "finished": (
                "You have already finished this consultation. Thank you! "
                "Choose “See my data” below to see what we hold about you."
            ),
            "declined_again": (
                "You chose not to take part, so nothing from you is stored. "
                "If you change your mind, press “Take part” below."
            ),
        },
        "cy": {
            "finished": "Rydych chi eisoes wedi gorffen yr ymgynghoriad hwn. Diolch! "
            "Dewiswch “Gweld fy nata” isod i weld beth sydd gennym amdanoch chi.",
            "declined_again": "Fe wnaethoch chi ddewis peidio â chymryd rhan, felly does dim "
            "yn cael ei gadw. Os byddwch chi'n newid eich meddwl, pwyswch “Cymryd rhan” isod.",
        },
    },
}


def phrase(key: str, language: str, channel: str | None = None) -> str:
    """The engine phrase `key` in `language` as `channel` words it, falling back to English."""
    return worded(key, language, channel, PHRASES, CHANNEL_PHRASES)
