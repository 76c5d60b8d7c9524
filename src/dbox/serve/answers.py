"""Reading an answer to an invitation in a free-text SMS: yes, no, or "a person should read it".

The rule is cautious: a reply becomes an RSVP only when it is short and says one thing. "OUI",
"oui !", "Oui je serai là jeudi !", "je viens", "ok" read yes; "NON", "non merci", "je ne viens
pas", "pas dispo" read no. Anything else stays in the inbox for a person: both at once ("oui mais
je ne pourrai pas rester"), a doubt ("peut-être", "je sais pas"), a question ("oui ? c'est où"),
a long message (more than :data:`MAX_WORDS` words).
"""

from __future__ import annotations

import re

from dbox.text import fold

MAX_WORDS = 12
YES_FIRST = {"oui", "ouais", "ouai", "yes", "ok", "okay", "dac", "dacc", "daccord", "partant", "partante",
             "present", "presente", "volontiers", "evidemment", "bien sur", "avec plaisir", "carrement", "yep", "👍"}
NO_FIRST = {"non", "no", "nan", "nope", "pas dispo", "indisponible", "impossible", "desole", "desolee"}
YES_PHRASES = ("je viens", "j y serai", "je serai la", "je serai present", "je serai presente", "on vient",
               "nous venons", "on sera la", "nous serons la", "je participe", "je suis dispo", "je suis partant",
               "je suis partante", "ca marche", "je m inscris", "compte sur moi", "comptez sur moi")
NO_PHRASES = ("je ne viens pas", "je viens pas", "je ne pourrai pas", "je pourrai pas", "je ne peux pas",
              "je peux pas", "pas dispo", "pas disponible", "je ne serai pas", "je serai pas", "j y serai pas",
              "je n y serai pas", "sans moi", "pas possible", "pas cette fois")
DOUBT = ("peut etre", "peutetre", "sais pas", "pas sur", "pas sure", "je verrai", "on verra", "a voir",
         "je vous dirai", "je te dirai", "maybe", "probablement", "surement pas sur", "j espere", "si je peux")
NEGATIONS = {"ne", "pas", "n", "non", "jamais", "plus"}


def _words(text: str) -> list[str]:
    folded = fold(text or "").replace("'", " ").replace("\u2019", " ").replace("-", " ")
    words = re.findall(r"[a-z0-9]+|👍", folded)
    return ["oui" if re.fullmatch(r"o+u+i+", w) else "non" if re.fullmatch(r"n+o+n+", w) else w for w in words]


def _has(words: list[str], phrase: str) -> bool:
    return f" {phrase} " in f" {' '.join(words)} "


def read_answer(text: str) -> str | None:
    """'yes', 'no', or None when a person should read the reply."""
    if "?" in (text or ""):
        return None
    words = _words(text)
    if not words or len(words) > MAX_WORDS:
        return None
    if any(_has(words, d) for d in DOUBT):
        return None
    first = words[0]
    first_two = " ".join(words[:2])
    says_no = first in NO_FIRST or first_two in NO_FIRST or any(_has(words, p) for p in NO_PHRASES)
    says_yes = (first in YES_FIRST or first_two in YES_FIRST or any(_has(words, p) for p in YES_PHRASES))
    if says_yes and not says_no and NEGATIONS.isdisjoint(words):
        return "yes"
    if says_no and not (first in YES_FIRST or first_two in YES_FIRST):
        if first in NO_FIRST and any(_has(words, p) for p in YES_PHRASES):
            return None     # "non, je viens" / "non mais je viens": contradictory
        return "no"
    return None
