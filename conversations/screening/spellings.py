"""Texting forms and misspellings, and how each detector reads them: the one table.

"im sucidal", "ur a idiot" and "kms" are written out before matching, so that the detectors
see the words their patterns and training used. Each detector reads a form its own way, so the
table has a column for each:

- the classifiers (:mod:`conversations.screening.textmodel`) drop apostrophes first, so they
  read contractions written out in full ("im" -> "i am"). Both shipped models were trained on
  this column: changing it changes their features, so it changes only with retraining;
- the safeguarding patterns (:mod:`conversations.screening.safeguarding`) read contractions
  with their apostrophes ("im" -> "i'm") and verbs with their dropped "g" restored;
- the abuse lexicon (:mod:`conversations.screening.moderation`) needs only who is addressed:
  there "ur" is "you're" ("ur a idiot"), where the others read "your".

None in a column leaves the form as typed for that detector.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["ABUSE_LEXICON", "CLASSIFIERS", "SAFEGUARDING_PATTERNS", "SPELLINGS", "spell_out"]

Reading = tuple[str | None, str | None, str | None]

# fmt: off
# form:            (classifiers,     patterns,        abuse lexicon)
SPELLINGS: dict[str, Reading] = {
    # Pronouns and contractions.
    "u":           ("you",            "you",           None),
    "ur":          ("your",           "your",          "you're"),
    "r":           ("are",            None,            None),
    "ya":          ("you",            None,            "you"),
    "yer":         ("your",           None,            "your"),
    "im":          ("i am",           "i'm",           None),
    "ive":         ("i have",         "i've",          None),
    "id":          ("i would",        None,            None),
    "ill":         ("i will",         None,            None),
    "hes":         ("he is",          "he's",          None),
    "shes":        ("she is",         "she's",         None),
    "theyre":      ("they are",       "they're",       "they're"),
    "youre":       ("you are",        "you're",        "you're"),
    "dont":        (None,             "don't",         None),
    "cant":        (None,             "can't",         None),
    "wont":        (None,             "won't",         None),
    "isnt":        (None,             "isn't",         None),
    "doesnt":      (None,             "doesn't",       None),
    "didnt":       (None,             "didn't",        None),
    "havent":      (None,             "haven't",       None),
    "hasnt":       (None,             "hasn't",        None),
    "wasnt":       (None,             "wasn't",        None),
    "werent":      (None,             "weren't",       None),
    "couldnt":     (None,             "couldn't",      None),
    "wouldnt":     (None,             "wouldn't",      None),
    "arent":       (None,             "aren't",        None),
    "aint":        (None,             "ain't",         None),
    "theres":      (None,             "there's",       None),
    "whats":       (None,             "what's",        None),
    "mums":        (None,             "mum's",         None),
    # Texting words.
    "wanna":       ("want to",        "want to",       None),
    "wana":        ("want to",        "want to",       None),
    "gonna":       ("going to",       "going to",      None),
    "gotta":       ("got to",         None,            None),
    "kms":         ("kill myself",    "kill myself",   None),
    "kys":         ("kill yourself",  None,            None),
    "unalive":     ("kill",           "kill",          None),
    "bf":          ("boyfriend",      "boyfriend",     None),
    "gf":          ("girlfriend",     "girlfriend",    None),
    "hubby":       ("husband",        "husband",       None),
    "tbh":         ("",               None,            None),
    "tho":         ("though",         None,            None),
    "bout":        ("about",          None,            None),
    "nite":        ("night",          None,            None),
    "tonite":      ("tonight",        "tonight",       None),
    "2nite":       ("tonight",        "tonight",       None),
    "rn":          ("right now",      "right now",     None),
    "pls":         ("please",         "please",        None),
    "plz":         ("please",         "please",        None),
    "ppl":         ("people",         "people",        None),
    "cos":         ("because",        "because",       None),
    "coz":         ("because",        "because",       None),
    "cuz":         ("because",        None,            None),
    "bcos":        (None,             "because",       None),
    "wen":         ("when",           "when",          None),
    "anymore":     (None,             "any more",      None),
    # Misspellings.
    "sucidal":     ("suicidal",       "suicidal",      None),
    "suicidle":    ("suicidal",       "suicidal",      None),
    "suisidal":    ("suicidal",       "suicidal",      None),
    "suicidel":    (None,             "suicidal",      None),
    "suacidal":    (None,             "suicidal",      None),
    "suicdal":     (None,             "suicidal",      None),
    "sucide":      ("suicide",        "suicide",       None),
    "suiside":     ("suicide",        "suicide",       None),
    "suicde":      (None,             "suicide",       None),
    "kil":         (None,             "kill",          None),
    "myslef":      ("myself",         "myself",        None),
    "myslf":       (None,             "myself",        None),
    "meself":      ("myself",         "myself",        None),
    "selfharm":    ("self harm",      "self harm",     None),
    "selfharming": ("self harming",   "self harming",  None),
    # Dropped "g" ("tryin", "endin"): only verbs the safeguarding patterns use, so "in" stays.
    **{
        verb + "in": (None, verb + "ing", None)
        for verb in (
            "try", "go", "kill", "end", "cutt", "hurt", "threaten", "bang", "kick", "hid", "com",
            "say", "follow", "beat", "hitt", "do", "stabb", "smash", "shout", "think", "plann",
            "lock", "chok", "strangl", "touch", "harm",
        )
    },
}
# fmt: on


def _column(index: int) -> dict[str, str]:
    column = ((form, read[index]) for form, read in SPELLINGS.items())
    return {form: spelt for form, spelt in column if spelt is not None}


CLASSIFIERS = _column(0)
SAFEGUARDING_PATTERNS = _column(1)
ABUSE_LEXICON = _column(2)


def spell_out(text: str, spellings: Mapping[str, str], word: re.Pattern[str]) -> str:
    """``text`` with each ``word`` that ``spellings`` lists written out as it says."""
    return word.sub(lambda m: spellings.get(m.group(), m.group()), text)
