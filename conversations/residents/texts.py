"""What the service says outside a script: help, data rights, joining."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from conversations.flow.wording import worded

# Dates residents read are in the time of the places consulted (UK councils).
LOCAL_TIME = ZoneInfo("Europe/London")
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst",
           "Medi", "Hydref", "Tachwedd", "Rhagfyr"),
}  # fmt: skip

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "slow_down": (
            "That's a lot of messages very quickly, so I'll pause for a minute. "
            "Please send your answer again in a moment."
        ),
        "abuse_pause": (
            "Let's take a short pause here. Your answers so far are saved, and you can "
            "carry on in a few minutes."
        ),
        "reminder": (
            "Hello again. You started telling us what makes life harder where you live, "
            "and we'd still love to hear the rest. It only takes a few minutes. "
            "(This is the only reminder we'll send. Send /stop for no more messages.)"
        ),
        "reminder_button": "Carry on",
        # A crisis (danger now, a plan, nowhere to sleep tonight): help at once, 999 first.
        "get_help": (
            "Thank you for telling us. If you or someone else is in danger right now, "
            "please call 999 now.\n\n"
            "• Samaritans will listen now, day or night, free: call 116 123.\n"
            "• National Domestic Abuse Helpline, free, 24 hours: 0808 2000 247.\n"
            "• Nowhere safe to sleep tonight: Shelter's free helpline 0808 800 4444 "
            "(in Wales, Shelter Cymru 08000 495 495), or your council's out-of-hours "
            "housing line.\n"
            "{local}\n\n"
            "This chat is not watched all the time, but someone from the team who looks "
            "after people's safety will read what you wrote."
        ),
        # Worrying signs: gentle signposting, no alarm.
        "get_support": (
            "Thank you for telling us. It sounds like things are really hard, and you "
            "don't have to deal with this alone. If you would like to talk to someone:\n\n"
            "• Samaritans listen any time, day or night, free: call 116 123.\n"
            "• National Domestic Abuse Helpline, free, 24 hours: 0808 2000 247.\n"
            "{local}\n\n"
            "Someone from the team who looks after people's safety will read what you wrote. "
            "If anyone is in danger right now, call 999."
        ),
        "help": (
            "Needs First asks people what makes life harder where they live, so that the "
            "council and its partners can start from what people need.\n\n"
            "/start – take part, or carry on where you left off\n"
            "/language – choose English or Welsh\n"
            "/mydata – see everything we hold about you\n"
            "/forget – delete everything we hold about you\n"
            "/stop – no more invitations from us\n"
            "/help – this message\n\n"
            "Your answers are stored without your name. If you are in danger, call 999."
        ),
        "choose": "Which consultation would you like to take part in?",
        "none_open": (
            "There are no consultations open right now. "
            "We'll let you know when one opens (send /stop if you'd rather we didn't)."
        ),
        "unknown_consultation": "I couldn't find a consultation called “{slug}”.",
        "closed_consultation": "The consultation “{slug}” isn't open at the moment.",
        "round_closed": "This consultation round has closed, so I can't take new answers. Thank you!",
        "results_link": "You can read what people said, and what was done about it, here: {url}",
        "next_round": "The next round opens on {opens}.",
        "next_round_until": "The next round opens on {opens} and closes on {closes}.",
        "unknown_button": "Sorry, I didn't recognise that button. Send /start to carry on.",
        "stopped": (
            "OK, we won't send you any more invitations. Your answers stay unless you "
            "send /forget. Send /start any time to take part again."
        ),
        "nothing_held": "We don't hold any information about you.",
        "forget_ask": (
            "This deletes everything we hold about you: your answers, your consent and the "
            "link between this chat and you. It can't be undone. Delete everything?"
        ),
        "forget_yes": "Yes, delete everything",
        "forget_no": "No, keep it",
        "forget_cancelled": "OK, nothing has been deleted.",
        "forgotten": (
            "Done. Everything we held about you has been deleted. "
            "If you send /start again, we'll treat you as someone new."
        ),
        "forgotten_flag_kept": (
            "One thing is kept for now: what you told us that made us worried about your "
            "safety. A safeguarding lead will read it, so that someone can help, and then it "
            "is deleted too."
        ),
        "mydata_intro": "Here is what we hold about you ({count} answers):",
        "mydata_outro": (
            "The attached file has all of it, including your consent. Send /forget to delete it."
        ),
        "language_ask": "Which language would you like?",
        "language_saved": "Thank you, I've saved your language.",
        "unknown_command": "Sorry, I don't know that command. Send /help to see what I can do.",
        "staff_only": "Sorry, that command is only for the consultation team. Send /help to see what you can do.",
    },
    "cy": {
        "language_name": "Cymraeg",
        "slow_down": (
            "Dyna lawer o negeseuon yn gyflym iawn, felly bydda i'n oedi am funud. "
            "Anfonwch eich ateb eto mewn eiliad, os gwelwch yn dda."
        ),
        "abuse_pause": (
            "Gadewch i ni oedi am ychydig. Mae eich atebion hyd yma wedi'u cadw, a gallwch "
            "barhau ymhen ychydig funudau."
        ),
        "reminder": (
            "Helo eto. Fe ddechreuoch chi ddweud wrthym beth sy'n gwneud bywyd yn anoddach "
            "lle rydych chi'n byw, a hoffem ni glywed y gweddill o hyd. Dim ond ychydig funudau "
            "mae'n ei gymryd. (Dyma'r unig nodyn atgoffa y byddwn yn ei anfon. Anfonwch /stop "
            "am ddim rhagor o negeseuon.)"
        ),
        "reminder_button": "Parhau",
        "get_help": (
            "Diolch am ddweud wrthym. Os ydych chi neu rywun arall mewn perygl nawr, "
            "ffoniwch 999 nawr.\n\n"
            "• Bydd y Samariaid yn gwrando nawr, ddydd a nos, am ddim: 116 123, neu yn "
            "Gymraeg 0808 164 0123.\n"
            "• Llinell Gymorth Byw Heb Ofn, am ddim, 24 awr: 0808 80 10 800.\n"
            "• Dim unman diogel i gysgu heno: Shelter Cymru, am ddim, 08000 495 495, neu "
            "linell tai y tu allan i oriau eich cyngor.\n"
            "{local}\n\n"
            "Dydy'r sgwrs hon ddim yn cael ei gwylio drwy'r amser, ond bydd rhywun o'r tîm "
            "sy'n gofalu am ddiogelwch pobl yn darllen yr hyn a ysgrifennoch chi."
        ),
        "get_support": (
            "Diolch am ddweud wrthym. Mae'n swnio fel bod pethau'n anodd iawn, a does dim "
            "rhaid i chi ddelio â hyn ar eich pen eich hun. Os hoffech chi siarad â rhywun:\n\n"
            "• Mae'r Samariaid yn gwrando unrhyw bryd, am ddim: 116 123, neu yn Gymraeg "
            "0808 164 0123.\n"
            "• Llinell Gymorth Byw Heb Ofn, am ddim, 24 awr: 0808 80 10 800.\n"
            "{local}\n\n"
            "Bydd rhywun o'r tîm sy'n gofalu am ddiogelwch pobl yn darllen yr hyn a "
            "ysgrifennoch chi. Os oes unrhyw un mewn perygl nawr, ffoniwch 999."
        ),
        "help": (
            "Mae Needs First yn gofyn i bobl beth sy'n gwneud bywyd yn anoddach lle maen nhw'n "
            "byw, fel y gall y cyngor a'i bartneriaid ddechrau o'r hyn sydd ei angen ar bobl.\n\n"
            "/start – cymryd rhan, neu barhau o ble roeddech chi\n"
            "/language – dewis Cymraeg neu Saesneg\n"
            "/mydata – gweld popeth sydd gennym amdanoch\n"
            "/forget – dileu popeth sydd gennym amdanoch\n"
            "/stop – dim rhagor o wahoddiadau gennym\n"
            "/help – y neges hon\n\n"
            "Caiff eich atebion eu cadw heb eich enw. Os ydych chi mewn perygl, ffoniwch 999."
        ),
        "choose": "Ym mha ymgynghoriad yr hoffech chi gymryd rhan?",
        "none_open": (
            "Does dim ymgynghoriadau ar agor ar hyn o bryd. Byddwn ni'n rhoi gwybod i chi pan "
            "fydd un yn agor (anfonwch /stop os byddai'n well gennych chi beidio)."
        ),
        "unknown_consultation": "Allwn i ddim dod o hyd i ymgynghoriad o'r enw “{slug}”.",
        "closed_consultation": "Dydy'r ymgynghoriad “{slug}” ddim ar agor ar hyn o bryd.",
        "round_closed": "Mae'r rownd hon o'r ymgynghoriad wedi cau, felly alla i ddim derbyn "
        "atebion newydd. Diolch!",
        "results_link": "Gallwch chi ddarllen beth ddywedodd pobl, a beth gafodd ei wneud am "
        "hynny, yma: {url}",
        "next_round": "Mae'r rownd nesaf yn agor ar {opens}.",
        "next_round_until": "Mae'r rownd nesaf yn agor ar {opens} ac yn cau ar {closes}.",
        "unknown_button": "Mae'n ddrwg gen i, wnes i ddim adnabod y botwm hwnnw. Anfonwch /start "
        "i barhau.",
        "stopped": "Iawn, wnawn ni ddim anfon rhagor o wahoddiadau atoch chi. Bydd eich atebion "
        "yn aros oni bai eich bod yn anfon /forget. Anfonwch /start unrhyw bryd i gymryd rhan eto.",
        "nothing_held": "Does gennym ni ddim gwybodaeth amdanoch chi.",
        "forget_ask": "Mae hyn yn dileu popeth sydd gennym amdanoch: eich atebion, eich "
        "caniatâd a'r cysylltiad rhwng y sgwrs hon a chi. Does dim modd ei ddadwneud. "
        "Dileu popeth?",
        "forget_yes": "Ie, dileu popeth",
        "forget_no": "Na, ei gadw",
        "forget_cancelled": "Iawn, does dim wedi'i ddileu.",
        "forgotten": "Wedi'i wneud. Mae popeth oedd gennym amdanoch wedi'i ddileu. Os anfonwch "
        "/start eto, byddwn ni'n eich trin fel rhywun newydd.",
        "forgotten_flag_kept": "Mae un peth yn cael ei gadw am y tro: yr hyn a ddywedoch chi "
        "wrthym a wnaeth i ni boeni am eich diogelwch. Bydd arweinydd diogelu yn ei ddarllen, "
        "er mwyn i rywun allu helpu, ac yna caiff ei ddileu hefyd.",
        "mydata_intro": "Dyma beth sydd gennym amdanoch ({count} ateb):",
        "mydata_outro": "Mae'r ffeil sydd ynghlwm yn cynnwys y cyfan, gan gynnwys eich "
        "caniatâd. Anfonwch /forget i'w ddileu.",
        "language_ask": "Pa iaith hoffech chi?",
        "language_saved": "Diolch, rydw i wedi cadw eich iaith.",
        "unknown_command": "Mae'n ddrwg gen i, dydw i ddim yn gwybod y gorchymyn hwnnw. "
        "Anfonwch /help i weld beth alla i ei wneud.",
        "staff_only": "Mae'n ddrwg gen i, dim ond i dîm yr ymgynghoriad y mae'r gorchymyn "
        "hwnnw. Anfonwch /help i weld beth allwch chi ei wneud.",
    },
}


# A channel's own wording of the texts above that name Telegram commands, as that
# channel offers the same thing (the web chat has buttons and links instead).
# Texts only Telegram ever sends (help, reminders, unknown commands) are not here.
CHANNEL_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "web": {
        "en": {
            "none_open": "There are no consultations open right now. Please come back later.",
            "unknown_button": (
                "Sorry, I didn't recognise that button. Please use the buttons or the answer "
                "box below to carry on."
            ),
            "stopped": (
                "OK, we won't send you any invitations. (This web chat can't send you "
                "messages in any case.) Your answers stay unless you choose “Delete my data” "
                "below."
            ),
            "forgotten": (
                "Done. Everything we held about you has been deleted. "
                "If you take part again, we'll treat you as someone new."
            ),
            "mydata_outro": (
                "The file has all of it, including your consent. Choose “Delete my data” to "
                "delete it."
            ),
        },
        "cy": {
            "none_open": "Does dim ymgynghoriadau ar agor ar hyn o bryd. Dewch yn ôl yn nes "
            "ymlaen, os gwelwch yn dda.",
            "unknown_button": "Mae'n ddrwg gen i, wnes i ddim adnabod y botwm hwnnw. Defnyddiwch "
            "y botymau neu'r blwch ateb isod i barhau, os gwelwch yn dda.",
            "stopped": "Iawn, wnawn ni ddim anfon gwahoddiadau atoch chi. (Does dim modd i'r "
            "sgwrs we hon anfon negeseuon atoch chi beth bynnag.) Bydd eich atebion yn aros oni "
            "bai eich bod yn dewis “Dileu fy nata” isod.",
            "forgotten": "Wedi'i wneud. Mae popeth oedd gennym amdanoch wedi'i ddileu. Os "
            "byddwch chi'n cymryd rhan eto, byddwn ni'n eich trin fel rhywun newydd.",
            "mydata_outro": "Mae'r ffeil yn cynnwys y cyfan, gan gynnwys eich caniatâd. "
            "Dewiswch “Dileu fy nata” i'w ddileu.",
        },
    },
}


# WhatsApp has no command menu: the same words work typed, with or without the slash.
CHANNEL_TEXTS["whatsapp"] = {
    "en": {
        "help": (
            "Needs First asks people what makes life harder where they live, so that the "
            "council and its partners can start from what people need.\n\n"
            "Send one of these words:\n"
            "START – take part, or carry on where you left off\n"
            "LANGUAGE – choose English or Welsh\n"
            "MYDATA – see everything we hold about you\n"
            "FORGET – delete everything we hold about you\n"
            "STOP – no more invitations from us\n"
            "HELP – this message\n\n"
            "Your answers are stored without your name or number. If you are in danger, "
            "call 999."
        ),
        # Sent as the reminder template's {{1}}: one paragraph.
        "reminder": (
            "Hello again. You started telling us what makes life harder where you live, "
            "and we'd still love to hear the rest. It only takes a few minutes: send START "
            "to carry on where you left off. (This is the only reminder we'll send. Send "
            "STOP for no more messages.)"
        ),
    },
    "cy": {
        "help": (
            "Mae Needs First yn gofyn i bobl beth sy'n gwneud bywyd yn anoddach lle maen nhw'n "
            "byw, fel bod y cyngor a'i bartneriaid yn gallu dechrau o'r hyn sydd ei angen ar "
            "bobl.\n\nAnfonwch un o'r geiriau hyn:\n"
            "DECHRAU – cymryd rhan, neu barhau o ble roeddech chi\n"
            "IAITH – dewis Cymraeg neu Saesneg\n"
            "MYDATA – gweld popeth sydd gennym amdanoch\n"
            "ANGHOFIO – dileu popeth sydd gennym amdanoch\n"
            "STOP – dim rhagor o wahoddiadau gennym\n"
            "CYMORTH – y neges hon\n\n"
            "Caiff eich atebion eu cadw heb eich enw na'ch rhif. Os ydych chi mewn perygl, "
            "ffoniwch 999."
        ),
        "reminder": (
            "Helo eto. Fe ddechreuoch chi ddweud wrthym beth sy'n gwneud bywyd yn anoddach "
            "lle rydych chi'n byw, a hoffem ni glywed y gweddill o hyd. Dim ond ychydig funudau "
            "mae'n ei gymryd: anfonwch DECHRAU i barhau o ble roeddech chi. (Dyma'r unig nodyn "
            "atgoffa y byddwn yn ei anfon. Anfonwch STOP am ddim rhagor o negeseuon.)"
        ),
    },
}


def service_text(key: str, language: str, *, channel: str | None = None, **values: str) -> str:
    """The text `key` in `language` (English if missing) as `channel` words it, filled in."""
    text = worded(key, language, channel, TEXTS, CHANNEL_TEXTS)
    return text.format(**values) if values else text


def a_date(moment: datetime, language: str, *, with_time: bool = True) -> str:
    """A stored (UTC) time as residents read it: "6 December 2026, 09:00", local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL_TIME)
    month = MONTHS.get(language, MONTHS["en"])[local.month - 1]
    day = f"{local.day} {month} {local.year}"
    return f"{day}, {local:%H:%M}" if with_time else day
