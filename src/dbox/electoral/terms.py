"""What electoral geography adds to the filter language (docs/filters.md, "Bureaux de vote and the
roll"), through the ``register_filter_terms`` hook:

- ``bureau = 38185-0012``, ``bureau in (...)``, ``bureau ^= 38185``, ``bureau is empty``;
- ``registered``: matched to a voter of an electoral roll;
- ``age >= 65``, ``sex = F``: from the roll line the contact was matched to (CNIL: allowed);
- ``turnout:legislatives-2024-t1 < 45``: the turnout of the contact's bureau, in percent;
- ``share:legislatives-2024-t1:UG > 30``: the nuance's share of the votes cast in the bureau;
- ``birthplace``, ``nationality``, ``name_sound`` (and their French names) are words the language
  knows only to refuse them: the CNIL forbids selecting voters by origin.

Compiled by :func:`dbox.store.electoral.compile_term`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.filters.fields import EQUALITY, ORDER, TEXT_MATCH, Field
from dbox.filters.nodes import Node
from dbox.filters.terms import FilterTerm
from dbox.hookspecs import hookimpl
from dbox.store.electoral import REFUSED_FIELDS, compile_term
from dbox.i18n import _

FIELDS = (
    Field("bureau", "code", EQUALITY | {"^="}, help="bureau de vote: 38185-0012 (INSEE code, dash, number)"),
    Field("age", "number", EQUALITY | ORDER, allows_empty=False,
          help="age from the electoral roll line the contact was matched to"),
    Field("sex", "code", EQUALITY, allows_empty=False, help="F or M, from the electoral roll"),
    *(Field(name, "code", EQUALITY | TEXT_MATCH, help="refused (CNIL: no selection by origin)")
      for name in REFUSED_FIELDS),
)
ALIASES = {"bureau_de_vote": "bureau", "bv": "bureau", "sexe": "sex",
           "lieu_de_naissance": "birthplace", "pays_de_naissance": "birthplace", "nationalite": "nationality",
           "phonetique": "name_sound", "soundex": "name_sound", "consonance": "name_sound"}
FLAGS = {"registered": "registered", "inscrit": "registered", "inscrite": "registered"}
_OPS = ("<", "<=", ">", ">=", "=", "!=")


@dataclass(frozen=True)
class ResultTerm(Node):
    """``turnout:ELECTION OP N`` or ``share:ELECTION:NUANCE OP N`` (N in percent)."""

    kind: str              # turnout | share
    election: str
    nuance: str | None
    op: str
    percent: str

    def to_text(self) -> str:
        nuance = f":{self.nuance}" if self.nuance else ""
        return f"{self.kind}:{self.election}{nuance} {self.op} {self.percent}"


def parse_result(parser, prefix: str) -> Node:
    start = parser.tok.start
    election = parser.prefixed_value(prefix, "an election (legislatives-2024-t1)")
    nuance = None
    if prefix == "share":
        if parser.tok.kind != "COLON":
            raise parser.error(_('expected ":NUANCE" after "share:{value}"').format(value=election.value), parser.tok.start, parser.tok.end,
                               hint=_("share:legislatives-2024-t1:UG > 30"))
        parser.advance()
        nuance = parser.prefixed_value(f"share:{election.value}", "a nuance (UG, RN, ENS...)").value.upper()
    op = parser.tok
    if op.kind != "OP" or {"==": "=", "<>": "!="}.get(op.value, op.value) not in _OPS:
        raise parser.error(_("expected a comparison after {prefix}: (< <= > >= = !=), found {describe}").format(
                               prefix=prefix, describe=op.describe()),
                           op.start, op.end, hint=f"{prefix}:{election.value}{':' + nuance if nuance else ''} < 45")
    parser.advance()
    number = parser.tok
    if number.kind != "NUMBER" or not 0 <= float(number.value) <= 100:
        raise parser.error(_("expected a percentage from 0 to 100 (written without %), found {describe}").format(
                               describe=number.describe()),
                           number.start, number.end)
    parser.advance()
    return ResultTerm(prefix, election.value, nuance, {"==": "=", "<>": "!="}.get(op.value, op.value), number.value,
                      span=(start, number.end), source=parser.source)


@hookimpl
def register_filter_terms(register):
    register(FilterTerm("electoral", {"sqlite": compile_term, "postgresql": compile_term}, prefixes=("turnout", "share"), parse=parse_result,
                        fields=FIELDS, aliases=ALIASES, flags=FLAGS, nodes=(ResultTerm,)))


__all__ = ["ResultTerm", "register_filter_terms"]
