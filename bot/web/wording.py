"""The web chat's own words (page furniture), in English and Welsh.

What the conversation says comes from the script and conversations.residents.texts; this
is only what a web page needs around it: labels, headings and notices.
"""

from __future__ import annotations

LANGUAGES = ("en", "cy")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to the conversation",
        "site": "Needs First",
        "take_part": "Take part",
        "take_part_hint": (
            "Press “Take part” to begin. We ask whether you are happy to take part before "
            "any question, and you can stop at any time."
        ),
        "closed": "This consultation isn't open at the moment.",
        "conversation": "Conversation",
        "bot_said": "Needs First said:",
        "you_said": "You said:",
        "latest": "Latest messages",
        "reply": "Your reply",
        "choose": "Choose an answer",
        "your_answer": "Type your answer",
        "answer_hint": "Up to 4,096 characters. Press Send when you're ready.",
        "send": "Send",
        "data_heading": "Your data and choices",
        "see_data": "See my data",
        "delete_data": "Delete my data",
        "stop": "Stop invitations",
        "language": "Language",
        "afresh": "Start afresh on this device",
        "afresh_hint": (
            "This clears this page and forgets that this device took part. Your answers stay "
            "with us unless you delete them first."
        ),
        "cookie_note": (
            "This page uses one cookie to recognise this device. It holds nothing about you."
        ),
        "notice_forgotten": (
            "Everything we held about you has been deleted. You can take part again as someone new."
        ),
        "notice_afresh": "This device has a fresh start.",
        "notice_too_long": "That answer was too long. Please keep it under 4,096 characters.",
        "notice_empty": "Please type an answer before pressing Send.",
        "notice_busy": (
            "Many people have joined from this internet connection in the last hour, so "
            "we can't add another just now. Please try again later, or use Telegram."
        ),
        "mydata_title": "Your data",
        "mydata_download": "Download all of it as a file (JSON)",
        "mydata_answers": "Your answers",
        "mydata_consents": "Your consent",
        "mydata_about": "About you",
        "col_consultation": "Consultation",
        "col_round": "Round",
        "col_question": "Question",
        "col_answer": "Answer",
        "col_when": "When",
        "col_version": "Version",
        "col_given": "Agreed",
        "yes": "Yes",
        "no": "No",
        "pseudonym": "Your pseudonymous id",
        "invitations": "Invitations",
        "invitations_on": "On",
        "invitations_off": "Off",
        "invitations_unreachable": (
            "None: this web chat can't send you messages, so we can't invite you back or "
            "tell you about decisions here"
        ),
        "back": "Back to the conversation",
        "nothing_held": "We don't hold any information about you.",
        "not_found": "We couldn't find that consultation.",
        "home": "Open consultations",
        "results_link": "We asked, you said, we did: read the results",
        "results_title": "We asked, you said, we did",
        "skip_main": "Skip to main content",
        "results_asked": "We asked",
        "results_took_part": "{residents} residents took part; {completed} answered every question.",
        "results_nobody_yet": "Nobody has taken part yet.",
        "results_under_heard": "Who we heard too little from",
        "results_under_heard_hint": (
            "These groups were less than half as many of the people who took part as they "
            "are of the people who live here. We are asking them again."
        ),
        "results_under_heard_row": "{share} of those who took part, {population} of residents",
        "results_all_heard": "Every group we count was heard in fair proportion.",
        "results_said": "You said",
        "results_said_hint": (
            "The themes our officers found and checked in what residents told us, with "
            "some of their words. Names, addresses and other personal details are removed."
        ),
        "results_answers": "{size} answers",
        "results_no_themes": "We are still reading what people said. The themes will appear here.",
        "results_decided": "A decision has been made: see below.",
        "results_undecided": "No decision yet.",
        "results_prioritised": "What mattered most",
        "results_too_close_all": (
            "Too close to call: residents' votes do not put any theme clearly ahead of the "
            "others, so the order below is not a ranking."
        ),
        "results_too_close_some": (
            "Themes with the same number are too close to call: the votes cannot say which "
            "mattered more."
        ),
        "results_joint": "too close to call",
        "results_prioritised_hint": (
            "{people} residents compared the themes in pairs. The share is how often a theme "
            "was chosen over another."
        ),
        "results_preferred": "chosen over another {share} of the time",
        "results_did": "We did",
        "results_no_decisions": "No decisions have been recorded yet.",
        "results_decided_on": "Decided on {date}",
        "results_about": "About: {theme}",
        "results_told": "{told} residents who raised this were told directly.",
        "results_status": "Progress:",
        "results_status_since": "since {date}",
        "status_agreed": "Agreed",
        "status_under_way": "Under way",
        "status_done": "Done",
        "status_not_going_ahead": "Not going ahead",
        "results_open": "This consultation is open: you can still take part.",
        "results_next": "The next round opens on {opens}.",
        "results_next_until": "The next round opens on {opens} and closes on {closes}.",
        "results_take_part": "Take part",
        "contact_heading": "Hear back by text message or email",
        "contact_purpose": (
            "If you want, leave a UK mobile number or an email address. We will use it only "
            "to tell you about the next round and what was decided on the needs you raised, "
            "through GOV.UK Notify. It is never part of the analysis or any report, and you "
            "can remove it here at any time; deleting your data removes it too."
        ),
        "contact_label": "Mobile number or email address (optional)",
        "contact_hint": "For example 07911 123456 or name@example.com",
        "contact_leave": "Keep it",
        "contact_remove": "Remove",
        "contact_kind_sms": "Text messages to",
        "contact_kind_email": "Emails to",
        "notice_contact_saved": "Thank you. We will use it only to tell you what happens next.",
        "notice_contact_invalid": (
            "That isn't a UK mobile number or an email address we can use. Please check it."
        ),
        "notice_contact_removed": "Removed. We no longer hold it.",
        "notice_contact_nobody": "Please take part first: then you can leave a way to hear back.",
    },
    "cy": {
        "skip": "Neidio i'r sgwrs",
        "site": "Needs First",
        "take_part": "Cymryd rhan",
        "take_part_hint": (
            "Pwyswch “Cymryd rhan” i ddechrau. Rydyn ni'n gofyn a ydych chi'n hapus i gymryd "
            "rhan cyn unrhyw gwestiwn, a gallwch chi stopio unrhyw bryd."
        ),
        "closed": "Dydy'r ymgynghoriad hwn ddim ar agor ar hyn o bryd.",
        "conversation": "Sgwrs",
        "bot_said": "Dywedodd Needs First:",
        "you_said": "Dywedoch chi:",
        "latest": "Negeseuon diweddaraf",
        "reply": "Eich ateb",
        "choose": "Dewiswch ateb",
        "your_answer": "Teipiwch eich ateb",
        "answer_hint": "Hyd at 4,096 nod. Pwyswch Anfon pan fyddwch chi'n barod.",
        "send": "Anfon",
        "data_heading": "Eich data a'ch dewisiadau",
        "see_data": "Gweld fy nata",
        "delete_data": "Dileu fy nata",
        "stop": "Dim rhagor o wahoddiadau",
        "language": "Iaith",
        "afresh": "Dechrau o'r newydd ar y ddyfais hon",
        "afresh_hint": (
            "Mae hyn yn clirio'r dudalen hon ac yn anghofio bod y ddyfais hon wedi cymryd rhan. "
            "Bydd eich atebion yn aros gyda ni oni bai eich bod chi'n eu dileu yn gyntaf."
        ),
        "cookie_note": (
            "Mae'r dudalen hon yn defnyddio un cwci i adnabod y ddyfais hon. Does dim byd "
            "amdanoch chi ynddo."
        ),
        "notice_forgotten": (
            "Mae popeth oedd gennym amdanoch chi wedi'i ddileu. Gallwch chi gymryd rhan eto "
            "fel rhywun newydd."
        ),
        "notice_afresh": "Mae gan y ddyfais hon ddechrau newydd.",
        "notice_too_long": "Roedd yr ateb yna'n rhy hir. Cadwch o dan 4,096 nod, os gwelwch yn dda.",
        "notice_empty": "Teipiwch ateb cyn pwyso Anfon, os gwelwch yn dda.",
        "notice_busy": (
            "Mae llawer o bobl wedi ymuno o'r cysylltiad rhyngrwyd hwn yn yr awr ddiwethaf, "
            "felly allwn ni ddim ychwanegu un arall ar hyn o bryd. Rhowch gynnig arall arni "
            "yn nes ymlaen, neu defnyddiwch Telegram."
        ),
        "mydata_title": "Eich data",
        "mydata_download": "Lawrlwytho'r cyfan fel ffeil (JSON)",
        "mydata_answers": "Eich atebion",
        "mydata_consents": "Eich caniatâd",
        "mydata_about": "Amdanoch chi",
        "col_consultation": "Ymgynghoriad",
        "col_round": "Rownd",
        "col_question": "Cwestiwn",
        "col_answer": "Ateb",
        "col_when": "Pryd",
        "col_version": "Fersiwn",
        "col_given": "Cytunwyd",
        "yes": "Do",
        "no": "Naddo",
        "pseudonym": "Eich rhif ffugenwol",
        "invitations": "Gwahoddiadau",
        "invitations_on": "Ymlaen",
        "invitations_off": "I ffwrdd",
        "invitations_unreachable": (
            "Dim: does dim modd i'r sgwrs we hon anfon negeseuon atoch chi, felly allwn ni "
            "ddim eich gwahodd yn ôl na dweud wrthych am benderfyniadau yma"
        ),
        "back": "Yn ôl i'r sgwrs",
        "nothing_held": "Does gennym ni ddim gwybodaeth amdanoch chi.",
        "not_found": "Doedden ni ddim yn gallu dod o hyd i'r ymgynghoriad yna.",
        "home": "Ymgynghoriadau ar agor",
        "results_link": "Fe ofynnon ni, fe ddywedoch chi, fe wnaethon ni: darllenwch y canlyniadau",
        "results_title": "Fe ofynnon ni, fe ddywedoch chi, fe wnaethon ni",
        "skip_main": "Neidio i'r prif gynnwys",
        "results_asked": "Fe ofynnon ni",
        "results_took_part": (
            "Cymerodd {residents} o drigolion ran; atebodd {completed} bob cwestiwn."
        ),
        "results_nobody_yet": "Does neb wedi cymryd rhan eto.",
        "results_under_heard": "Pwy na chlywson ni ddigon ganddyn nhw",
        "results_under_heard_hint": (
            "Roedd y grwpiau hyn yn llai na hanner cymaint o'r bobl a gymerodd ran ag ydyn "
            "nhw o'r bobl sy'n byw yma. Rydyn ni'n gofyn iddyn nhw eto."
        ),
        "results_under_heard_row": "{share} o'r rhai a gymerodd ran, {population} o'r trigolion",
        "results_all_heard": "Clywson ni gan bob grŵp rydyn ni'n ei gyfrif mewn cyfran deg.",
        "results_said": "Fe ddywedoch chi",
        "results_said_hint": (
            "Y themâu a ganfu ac a wiriodd ein swyddogion yn yr hyn a ddywedodd trigolion "
            "wrthym, gyda rhai o'u geiriau. Mae enwau, cyfeiriadau a manylion personol eraill "
            "wedi'u tynnu."
        ),
        "results_answers": "{size} o atebion",
        "results_no_themes": (
            "Rydyn ni'n dal i ddarllen yr hyn a ddywedodd pobl. Bydd y themâu'n ymddangos yma."
        ),
        "results_decided": "Mae penderfyniad wedi'i wneud: gweler isod.",
        "results_undecided": "Dim penderfyniad eto.",
        "results_prioritised": "Beth oedd bwysicaf",
        "results_too_close_all": (
            "Rhy agos i ddweud: nid yw pleidleisiau'r trigolion yn rhoi unrhyw thema yn glir "
            "o flaen y lleill, felly nid yw'r drefn isod yn safle."
        ),
        "results_too_close_some": (
            "Mae themâu â'r un rhif yn rhy agos i ddweud: ni all y pleidleisiau ddweud pa un "
            "oedd bwysicaf."
        ),
        "results_joint": "rhy agos i ddweud",
        "results_prioritised_hint": (
            "Cymharodd {people} o drigolion y themâu fesul pâr. Y gyfran yw pa mor aml y "
            "dewiswyd thema dros un arall."
        ),
        "results_preferred": "wedi'i dewis dros un arall {share} o'r amser",
        "results_did": "Fe wnaethon ni",
        "results_no_decisions": "Does dim penderfyniadau wedi'u cofnodi eto.",
        "results_decided_on": "Penderfynwyd ar {date}",
        "results_about": "Ynglŷn â: {theme}",
        "results_told": "Cafodd {told} o drigolion a gododd hyn wybod yn uniongyrchol.",
        "results_status": "Cynnydd:",
        "results_status_since": "ers {date}",
        "status_agreed": "Cytunwyd",
        "status_under_way": "Ar y gweill",
        "status_done": "Wedi'i wneud",
        "status_not_going_ahead": "Ddim yn mynd yn ei flaen",
        "results_open": "Mae'r ymgynghoriad hwn ar agor: gallwch chi gymryd rhan o hyd.",
        "results_next": "Mae'r rownd nesaf yn agor ar {opens}.",
        "results_next_until": "Mae'r rownd nesaf yn agor ar {opens} ac yn cau ar {closes}.",
        "results_take_part": "Cymryd rhan",
        "contact_heading": "Clywed yn ôl drwy neges destun neu e-bost",
        "contact_purpose": (
            "Os hoffech chi, gadewch rif ffôn symudol yn y DU neu gyfeiriad e-bost. Byddwn ni'n "
            "ei ddefnyddio dim ond i ddweud wrthych am y rownd nesaf a'r hyn a benderfynwyd am "
            "yr anghenion a godwyd gennych, drwy GOV.UK Notify. Dydy e byth yn rhan o'r "
            "dadansoddiad nac unrhyw adroddiad, a gallwch ei ddileu yma unrhyw bryd; mae dileu "
            "eich data yn ei ddileu hefyd."
        ),
        "contact_label": "Rhif ffôn symudol neu gyfeiriad e-bost (dewisol)",
        "contact_hint": "Er enghraifft 07911 123456 neu enw@example.com",
        "contact_leave": "Cadw hwn",
        "contact_remove": "Dileu",
        "contact_kind_sms": "Negeseuon testun i",
        "contact_kind_email": "E-byst i",
        "notice_contact_saved": "Diolch. Byddwn ni'n ei ddefnyddio dim ond i ddweud beth sy'n digwydd nesaf.",
        "notice_contact_invalid": (
            "Dydy hwnna ddim yn rhif ffôn symudol yn y DU nac yn gyfeiriad e-bost y gallwn ei "
            "ddefnyddio. Gwiriwch ef, os gwelwch yn dda."
        ),
        "notice_contact_removed": "Wedi'i ddileu. Dydyn ni ddim yn ei gadw mwyach.",
        "notice_contact_nobody": "Cymerwch ran yn gyntaf: yna gallwch adael ffordd i glywed yn ôl.",
    },
}

NOTICES = ("forgotten", "afresh", "too_long", "empty", "busy")


def words_for(language: str) -> dict[str, str]:
    """The page's words in `language`, English where Welsh is missing."""
    return {**WORDS["en"], **WORDS.get(language, {})}
