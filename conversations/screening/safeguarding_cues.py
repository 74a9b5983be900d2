"""Which answers the safeguarding classifier is asked about (see :mod:`conversations.screening.safeguarding`).

A word-count model is least sure on short answers with no word of harm in them ("can't think of
anything"), and talk about services with nobody in it is not a disclosure; both are left to the
curated patterns. Longer answers are always asked about, because no list of cues knows every way
of saying it.
"""

from __future__ import annotations

import re

from conversations.screening import textmodel

__all__ = ["classifier_applies"]

# The classifier is asked only about answers with at least one of these words: some word of
# harm, fear, help, the body, a method, a family member, a child, money or carers. Service
# feedback without any ("can't think of anything", "I'd like facetime appointments") is never
# a disclosure, and short answers like it are where a word-count model is least sure.
_CLASSIFIER_CUES = re.compile(
    r"\b(suicid\w*|kill\w*|die|dies|died|dying|dead|death|end|ends|ending|life|lives|living|alive"
    r"|exist\w*|wake|hurt\w*|harm\w*|cut\w*|burn\w*|scratch\w*|overdos\w*|pills?|tablets?"
    r"|paracetamol|meds|rope|noose|hang\w*|jump\w*|bridge|cliffs?|railway|drown\w*|disappear\w*"
    r"|gone|goodbye|note|burden|hopeless|worthless|give up|giving up|cope|coping|face|point"
    r"|reason|future|better off|over|finished|done|anymore|any more|forever|for good|sleep\w*"
    r"|stupid|silly|hits?|hitting|beat\w*|batter\w*|punch\w*|kick\w*|slap\w*|push\w*|shov\w*"
    r"|strangl\w*|chok\w*|throttl\w*|throat|neck|bruis\w*|black eye|violen\w*|abus\w*|rap(e|ed)"
    r"|assault\w*|sex\w*|touch\w*|grop\w*|nudes?|naked|scared|afraid|frighten\w*|terrifi\w*"
    r"|fear\w*|threat\w*|knife|knives|guns?|weapon|blade|hammer|bat|danger\w*|safe|unsafe|help"
    r"|police|ambulance|999|fire|smoke|gas|flood\w*|bleed\w*|blood|collaps\w*|breath\w*"
    r"|unconscious|fitting|seizure|stroke|break\w* in|broke in|attack\w*|stab\w*|shoot\w*|shot"
    r"|follow\w*|stalk\w*|track\w*|control\w*|money|cash|pension|benefits|wages|bank|passport"
    r"|documents|lock\w*|trap\w*|hid|hide|hiding|escap\w*|flee\w*|fled|refuge|leave|ex"
    r"|partner|husband|wife|boyfriend|girlfriend|fella|man|men|lads?|child|children|kids?|bab(y|ies)"
    r"|toddlers?|son|daughter|boy|girl|niece|nephew|grand\w*|brother|sister|dad|mum|mother|father"
    r"|step\w*|uncle|year old|i am \d+|neglect\w*|hungry|starv\w*|food|fed|alone|own|drunk|drugs?"
    r"|groom\w*|photos?|pictures?|pics|messag\w*|snapchat|online|missing|screaming|crying|carers?"
    r"|care home|staff|landlord|exploit\w*|traffick\w*|made to|make me|makes me|forc\w*|blackmail\w*"
    r"|steal\w*|stole|stolen|taking|takes|took|rough|marks|sores|soiled|kicked out|stairwell|outside"
    r"|door|window|right now|tonight|please|marw|lladd|brifo|niweid\w*|hunan\w*|taro|nharo|curo"
    r"|myself|himself|herself|themselves|do it|edge|wall|into the|engine|antidepressants|things away"
    r"|need them|to live|live for|will to live|be around|be here|here by|last the|top(ping)?"
    r"|away from|nowhere|believe me|eggshells|smash\w*|broke|broken|headbutt\w*|my phone|goes off"
    r"|every penny|someone|somebody|in my (house|home|flat)|floor|responding|petrol|letterbox"
    r"|calling|ofn|perygl|d?diogel|heddlu|(g|ch|c)yllell|plant|cam-drin|ngham-drin|dwyn|gofal\w*"
    r"|byw|l?ladd|niwed|n?dd?aro|mwrw|bwrw|m?frifo|mrifo|rheoli|nilyn|dilyn|cymryd|trais|yma"
    r"|deffro|[fm]arw|torri|hun|hebdd\w*|bydden"
    # Nowhere to sleep, control, giving things away, and the Welsh for them.
    r"|hostels?|evict\w*|tent|rucksack|thrown|sofa|streets?|rough|freezing|prison|lodger"
    r"|let (anyone|anybody|me|her|him)|allowed|permission|away|won't need|need it|hair|waking"
    r"|wake up|pills|plils|bruises|marks|c?h?[cg]?[uw]r[uo]|chruo|gadael|gadeal|cloi|bygwth"
    r"|tracio|caniat\w*|unman|cysgu|gwaed\w*|tabled\w*|cleis\w*|cyffur\w*|pecyn\w*|mab|mam"
    r"|n?gh?ariad|chwaer|m?b?r[wa][wa]d|n?gh?ymydog|sgrech\w*|môr|moddion|diflannu"
    r"|heno|n?stryd|n?h?taflu|llosgi|n?gh?wth\w*|pasbort\w*|cyflog|arian|merch|babi|dynion"
    r"|orffen|pwynt|photos?|tabs|talbets)\b"
)


# Talk about services with nobody in it ("more money for domestic violence refuges") is left
# to the patterns: the classifier knows the words of a disclosure, not who they happen to.
_SERVICE_WORDS = re.compile(
    r"\b(more money|fund\w*|services?|refuges?|prevention|awareness|training|charit\w+|council"
    r"|campaigns?|reports?|statistics|figures|rates|policy|helplines?|schools? should|should be"
    r"|we need|need(s)? more|support for|victims|survivors|people who|young people|teenagers"
    r"|residents|tenants|response times?|inspections?|paramedics|officers)\b"
)
_SOMEONE = re.compile(
    r"\b(i|im|ive|id|ill|me|my|mine|myself|he|hes|she|shes|him|his|her|hers|himself|herself)\b"
)


_LONG_ANSWER = 8
# Wishes for the end of a natural life ("die in my own home when the time comes"): the words of
# a disclosure, said of a hospice bed. Left to the patterns, like talk about services.
_END_OF_LIFE = re.compile(
    r"\b(when (the|my) time comes|end of life|palliative|hospice|die (at|in) (my own |their own"
    r"|his own |her own )?(home|bed)|marw gartref)\b"
)


def classifier_applies(text: str) -> bool:
    """Whether the classifier is asked about ``text`` at all (see ``_CLASSIFIER_CUES``): a
    longer answer always is, because no list of cues knows every way of saying it."""
    norm = textmodel.normalise(text)
    if (_SERVICE_WORDS.search(norm) and not _SOMEONE.search(norm)) or _END_OF_LIFE.search(norm):
        return False
    return _CLASSIFIER_CUES.search(norm) is not None or len(norm.split()) >= _LONG_ANSWER
