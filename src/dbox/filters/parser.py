"""The filter language's parser: tokens -> syntax tree, checking fields, operators and value types.

Grammar (keywords are case-insensitive)::

    expression := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | "(" expression ")" | predicate
    predicate  := "tag:" NAME | "consent:" CHANNEL | "reachable:" CHANNEL | "in:" SEGMENT
                | FIELD OP value               OP: = != < <= > >= ^= ~ !~   (== and <> also read)
                | FIELD ["not"] "in" "(" value ("," value)* ")"
                | FIELD "is" ["not"] "empty"
    value      := WORD | NUMBER | DATE | "quoted text" | NUMBER UNIT "ago" | today | yesterday | now

The parser knows the language, not the store: whether a canton or a tag exists is checked by the
compiler (``dbox.store.filters``), which reports it at the same position.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from dbox.filters import fields as F
from dbox.filters.errors import FilterSyntaxError, Source
from dbox.filters.lexer import NUMBER, Token, tokenize
from dbox.filters import terms
from dbox.filters.nodes import (
    And, Compare, Consent, DateWord, Flag, InList, IsEmpty, Literal, Node, Not, Or, Reachable,
    RelativeDate, SegmentRef, Tag, Value,
)
from dbox.i18n import _

MAX_DEPTH = 64          # nesting of parentheses and "not"
MAX_LIST = 10_000       # values in one "in (...)" list
_OPERATOR_ALIASES = {"==": "=", "<>": "!="}
_UNITS = {f"{u}s": u for u in F.TIME_UNITS} | {u: u for u in F.TIME_UNITS}
_POSTAL_PREFIX = re.compile(r"\d{1,5}")
_DEPARTEMENT = re.compile(r"(\d{1,3}|2[ABab])")
_CIRCO = re.compile(r"(9[78]\d|2[ABab]|\d{1,2})[- ](\d{1,2})|(9[78]\d|2[ABab]|\d{2})(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+\-]\d{2}:?\d{2})?")


def suggest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate to a misspelt word, if one is close enough."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def parse(text: str | Source | None, *, custom_fields: Callable[[], Iterable[str]] | None = None) -> Node | None:
    """The syntax tree of a filter expression; None when the text is empty (every contact).

    ``custom_fields`` (called only to word an error) lists the store's custom fields, so that
    ``profesion = x`` can suggest ``field.profession``.
    """
    if text is None:
        return None
    source = text if isinstance(text, Source) else Source(text)
    return _Parser(source, custom_fields).parse()


class _Parser:
    def __init__(self, source: Source, custom_fields):
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.custom_fields = custom_fields

    # -- helpers --------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def error(self, message: str, start: int, end: int | None = None, **kw) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.source, start, end, **kw)

    def at_keyword(self, *words: str) -> bool:
        return self.tok.kind == "WORD" and self.tok.value.lower() in words

    def node(self, cls, start: int, end: int, *args, **kw):
        return cls(*args, span=(start, end), source=self.source, **kw)

    # -- grammar --------------------------------------------------------------------------------

    def parse(self) -> Node | None:
        if self.tok.kind == "EOF":
            return None
        tree = self.parse_or()
        if self.tok.kind != "EOF":
            raise self.unexpected_after_predicate()
        return tree

    def unexpected_after_predicate(self) -> FilterSyntaxError:
        tok = self.tok
        if tok.kind == "RPAREN":
            return self.error(_('unexpected ")": no "(" to close'), tok.start, tok.end)
        hint = None
        if tok.kind in ("WORD", "NUMBER", "DATE", "STRING"):
            starts_condition = tok.kind == "WORD" and self.peek().kind in ("COLON", "OP")
            hint = ('join conditions with "and" or "or"' if starts_condition else
                    'put a value that has spaces in quotes: commune = "Saint-Pierre de Chartreuse"')
        return self.error(_('expected "and", "or" or the end, found {describe}').format(describe=tok.describe()), tok.start, tok.end,
                          hint=hint)

    def parse_or(self) -> Node:
        start = self.tok.start
        items = [self.parse_and()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.parse_and())
        if len(items) == 1:
            return items[0]
        flat = tuple(x for item in items for x in (item.items if isinstance(item, Or) else (item,)))
        return self.node(Or, start, self.tokens[self.i - 1].end, flat)

    def parse_and(self) -> Node:
        start = self.tok.start
        items = [self.parse_unary()]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.parse_unary())
        if len(items) == 1:
            return items[0]
        flat = tuple(x for item in items for x in (item.items if isinstance(item, And) else (item,)))
        return self.node(And, start, self.tokens[self.i - 1].end, flat)

    def parse_unary(self) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(_("expression nested too deeply (more than {MAX_DEPTH} levels)").format(
                                     MAX_DEPTH=MAX_DEPTH),
                                 self.tok.start, self.tok.end)
            tok = self.tok
            if self.at_keyword("not") and self.peek().kind != "COLON":
                self.advance()
                item = self.parse_unary()
                return self.node(Not, tok.start, item.span[1], item)
            if tok.kind == "LPAREN":
                self.advance()
                if self.tok.kind == "RPAREN":
                    raise self.error(_("empty parentheses"), tok.start, self.tok.end)
                inner = self.parse_or()
                if self.tok.kind != "RPAREN":
                    if self.tok.kind == "EOF":
                        raise self.error(_('missing ")" to close this "("'), tok.start, tok.end)
                    raise self.unexpected_after_predicate()
                self.advance()
                return inner
            return self.parse_predicate()
        finally:
            self.depth -= 1

    def parse_predicate(self) -> Node:
        tok = self.tok
        if tok.kind == "EOF":
            previous = self.tokens[self.i - 1] if self.i else None
            after = f" after {previous.describe()}" if previous else ""
            raise self.error(_("expected a condition{after}").format(after=after), tok.start, tok.end)
        if tok.kind != "WORD":
            if tok.kind == "RPAREN":
                raise self.error(_('unexpected ")"'), tok.start, tok.end)
            raise self.error(_("expected a field, tag:, consent:, reachable: or in:, found {describe}").format(
                                 describe=tok.describe()),
                             tok.start, tok.end, hint=_("see docs/filters.md for the fields"))
        if self.peek().kind == "COLON":
            return self.parse_prefixed()
        flags = F.flags()
        if F.normalize_field_name(tok.value) in flags:
            self.advance()
            return Flag(flags[F.normalize_field_name(tok.value)], span=(tok.start, tok.end), source=self.source)
        if tok.value.lower() in F.KEYWORDS:
            raise self.error(_('expected a condition, found the keyword "{value}"').format(value=tok.value), tok.start, tok.end)
        return self.parse_comparison()

    def parse_prefixed(self) -> Node:
        word = self.advance()
        self.advance()  # the colon
        prefix = word.value.lower()
        registered = terms.registry().prefixes.get(prefix)
        if registered is not None:   # an area's term (attended:, network:, ...): its own parser piece
            return registered.parse(self, prefix)
        if prefix not in F.PREFIXES:
            raise self.error(_('unknown filter "{value}:"').format(value=word.value), word.start, word.end + 1,
                             suggestion=_with_colon(suggest(prefix, F.prefixes())))
        what = {"tag": "a tag name", "consent": "a channel", "reachable": "a channel",
                "in": "a saved segment's name"}[prefix]
        value = self.prefixed_value(prefix, what)
        span = (value.start, value.end)   # errors about the name point at the name
        if prefix == "tag":
            return Tag(value.value, span=span, source=self.source)
        if prefix == "in":
            return SegmentRef(value.value, span=span, source=self.source)
        channel = value.value.lower()
        allowed = F.CONSENT_CHANNELS if prefix == "consent" else F.REACHABLE_CHANNELS
        if channel not in allowed:
            raise self.error(_('unknown {prefix} channel "{value}"').format(prefix=prefix, value=value.value), value.start, value.end,
                             suggestion=suggest(channel, allowed), hint=_("{prefix} channels: {items}").format(
                                                                            prefix=prefix, items=', '.join(allowed)))
        cls = Consent if prefix == "consent" else Reachable
        return cls(channel, span=span, source=self.source)

    def prefixed_value(self, prefix: str, what: str) -> Token:
        """The value after ``prefix:`` (a word, number, date or non-blank quoted text), consumed;
        a parser piece for registered terms too. ``what`` names it in the error: "a network"."""
        value = self.tok
        if value.kind not in ("WORD", "NUMBER", "DATE", "STRING") or (value.kind == "STRING" and not value.value.strip()):
            raise self.error(_('expected {what} after "{prefix}:"').format(what=what, prefix=prefix), value.start, value.end)
        self.advance()
        return value

    def parse_comparison(self) -> Node:
        word = self.advance()
        name = F.normalize_field_name(word.value)
        spec = F.lookup(name)
        if spec is None:
            raise self.unknown_field(word, name)
        name = F.canonical_name(name)
        tok = self.tok
        if tok.kind == "OP":
            op = _OPERATOR_ALIASES.get(tok.value, tok.value)
            if op not in spec.operators:
                raise self.error(_('"{op}" does not apply to {name} (use {operator_list})').format(
                                     op=op, name=name, operator_list=spec.operator_list()),
                                 tok.start, tok.end)
            self.advance()
            value = self.parse_value(name, spec, op, tok)
            return Compare(name, op, value, span=(word.start, value.span[1]), source=self.source,
                           field_span=(word.start, word.end))
        if self.at_keyword("in") or (self.at_keyword("not") and self.peek().kind == "WORD"
                                     and self.peek().value.lower() == "in"):
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            in_tok = self.advance()
            if not spec.allows_in:
                raise self.error(_('"in" does not apply to {name} (use {operator_list})').format(
                                     name=name, operator_list=spec.operator_list()),
                                 in_tok.start, in_tok.end)
            return self.parse_list(word, name, spec, negated)
        if self.at_keyword("is"):
            is_tok = self.advance()
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            if not self.at_keyword("empty"):
                raise self.error(_('expected "empty" or "not empty" after "is", found {describe}').format(
                                     describe=self.tok.describe()),
                                 self.tok.start, self.tok.end)
            end_tok = self.advance()
            if not spec.allows_empty:
                raise self.error(_("{name} is never empty (use {operator_list})").format(
                                     name=name, operator_list=spec.operator_list()), is_tok.start, end_tok.end)
            return IsEmpty(name, negated, span=(word.start, end_tok.end), source=self.source,
                           field_span=(word.start, word.end))
        raise self.error(_('expected an operator after "{value}" ({operator_list}), found {describe}').format(
                             value=word.value, operator_list=spec.operator_list(), describe=tok.describe()), tok.start, tok.end)

    def unknown_field(self, word: Token, name: str) -> FilterSyntaxError:
        candidates = F.known_names()
        hint = _("custom fields are written field.<name>; see docs/filters.md for the fields")
        if self.custom_fields is not None and not name.startswith(F.CUSTOM_PREFIX):
            customs = {c: F.CUSTOM_PREFIX + c for c in self.custom_fields()}
            close = suggest(name, [*candidates, *customs])
            close = customs.get(close, close)
        elif name.startswith(F.CUSTOM_PREFIX):
            return self.error(_('expected a custom field\'s name after "field."'), word.start, word.end, hint=hint)
        else:
            close = suggest(name, candidates)
        return self.error(_('unknown field "{value}"').format(value=word.value), word.start, word.end,
                          suggestion=F.canonical_name(close) if close else None, hint=None if close else hint)

    def parse_list(self, word: Token, name: str, spec: F.Field, negated: bool) -> Node:
        opening = self.tok
        if opening.kind != "LPAREN":
            raise self.error(_('expected "(" after "in", found {describe}').format(describe=opening.describe()), opening.start, opening.end,
                             hint=_("{name} in (a, b, c)").format(name=name))
        self.advance()
        if self.tok.kind == "RPAREN":
            raise self.error(_("empty list"), opening.start, self.tok.end)
        values: list[Value] = []
        while True:
            if len(values) >= MAX_LIST:
                raise self.error(_("list too long (at most {MAX_LIST} values)").format(MAX_LIST=MAX_LIST), self.tok.start, self.tok.end)
            values.append(self.parse_value(name, spec, "=", opening))
            if self.tok.kind == "COMMA":
                self.advance()
                if self.tok.kind == "RPAREN":  # a trailing comma is fine
                    break
                continue
            if self.tok.kind == "RPAREN":
                break
            if self.tok.kind == "EOF":
                raise self.error(_('missing ")" to close the list'), opening.start, opening.end)
            raise self.error(_('expected "," or ")" in the list, found {describe}').format(
                                 describe=self.tok.describe()),
                             self.tok.start, self.tok.end)
        closing = self.advance()
        return InList(name, tuple(values), negated, span=(word.start, closing.end), source=self.source,
                      field_span=(word.start, word.end))

    # -- values ---------------------------------------------------------------------------------

    def parse_value(self, name: str, spec: F.Field, op: str, after: Token) -> Value:
        tok = self.tok
        if tok.kind not in ("WORD", "NUMBER", "DATE", "STRING"):
            raise self.error(_('expected a value after "{value}", found {describe}').format(
                                 value=after.value, describe=tok.describe()), tok.start, tok.end)
        if tok.kind == "WORD" and tok.value.lower() in F.KEYWORDS:
            raise self.error(_('expected a value after "{value}", found the keyword "{value2}"').format(
                                 value=after.value, value2=tok.value),
                             tok.start, tok.end, hint=_('to mean the word itself, quote it: "{value}"').format(
                                                          value=tok.value))
        if spec.kind == "date":
            return self.parse_date(name, tok)
        self.advance()
        span = (tok.start, tok.end)
        text = tok.value
        if spec.kind == "number" or (spec.kind == "custom" and op in F.ORDER and tok.kind == "NUMBER"):
            return self.number(name, tok, span)
        if spec.kind == "custom" and op in F.ORDER:
            return Literal(text, "text", span=span, source=self.source)
        checked = self.check_text(name, spec, op, text, tok)
        return Literal(checked, "text", span=span, source=self.source)

    def number(self, name: str, tok: Token, span) -> Literal:
        text = tok.value.strip()
        if not NUMBER.fullmatch(text) or len(text) > 30:
            raise self.error(_("{name} needs a number, found {describe}").format(name=name, describe=tok.describe()), tok.start, tok.end)
        value = Decimal(text)
        canonical = str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
        return Literal(canonical, "number", span=span, source=self.source)

    def check_text(self, name: str, spec: F.Field, op: str, text: str, tok: Token) -> str:
        """Language-level checks and normal forms of text values (the store checks the rest)."""
        if spec.kind == "postal_code":
            digits = text.strip()
            if op == "^=":
                if not _POSTAL_PREFIX.fullmatch(digits):
                    raise self.error(_("postal_code ^= needs 1 to 5 digits, found {describe}").format(
                                         describe=tok.describe()), tok.start, tok.end)
                return digits
            if digits.isdigit() and len(digits) == 4:
                digits = "0" + digits
            if not (digits.isdigit() and len(digits) == 5):
                hint = f"postal_code ^= {digits} selects every code that starts with {digits}" if digits.isdigit() else None
                raise self.error(_("a postal code has 5 digits, found {describe}").format(describe=tok.describe()), tok.start, tok.end, hint=hint)
            return digits
        if spec.kind == "departement":
            code = text.strip()
            if not _DEPARTEMENT.fullmatch(code):
                raise self.error(_('"{text}" is not a département code (38, 2A, 971)').format(text=text), tok.start, tok.end)
            code = code.upper()
            return code.zfill(2) if code.isdigit() else code
        if spec.kind == "circonscription":
            if op == "^=":
                return text.strip().upper()
            match = _CIRCO.fullmatch(text.strip())
            if not match:
                raise self.error(_('"{text}" is not a circonscription (38-01: département, dash, number)').format(
                                     text=text),
                                 tok.start, tok.end)
            dep, number = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            dep = dep.upper().zfill(2) if dep.isdigit() else dep.upper()
            return f"{dep}-{int(number):02d}"
        if spec.kind == "enum":
            value = text.strip().lower()
            if value not in F.GEO_STATUSES:
                raise self.error(_('unknown {name} "{text}"').format(name=name, text=text), tok.start, tok.end,
                                 suggestion=suggest(value, F.GEO_STATUSES),
                                 hint=_("{name} is one of {items}").format(
                                          name=name, items=', '.join(F.GEO_STATUSES)))
            return value
        if spec.kind == "code":
            return text.strip().upper() if name == "phone_region" else text.strip()
        return text

    def parse_date(self, name: str, tok: Token) -> Value:
        start = tok.start
        if tok.kind == "NUMBER":
            amount_tok = self.advance()
            unit_tok = self.tok
            if unit_tok.kind != "WORD":
                raise self.error(_('{name} needs a date; a number must be followed by a unit and "ago" (30 days ago)').format(
                                     name=name), amount_tok.start, amount_tok.end)
            unit = _UNITS.get(unit_tok.value.lower())
            if unit is None:
                raise self.error(_('unknown unit "{value}"').format(value=unit_tok.value), unit_tok.start, unit_tok.end,
                                 suggestion=suggest(unit_tok.value.lower(), [f"{u}s" for u in F.TIME_UNITS]),
                                 hint=_("units: minutes, hours, days, weeks, months, years"))
            self.advance()
            if not self.at_keyword("ago"):
                raise self.error(_('expected "ago" after "{value} {value2}", found {describe}').format(
                                     value=amount_tok.value, value2=unit_tok.value, describe=self.tok.describe()), self.tok.start, self.tok.end)
            end = self.advance().end
            try:
                amount = int(amount_tok.value)
            except ValueError:
                raise self.error(_("the number of a relative date is a whole number"), amount_tok.start,
                                 amount_tok.end) from None
            if amount < 0 or amount > 100_000:
                raise self.error(_("the number of a relative date is between 0 and 100000"), amount_tok.start,
                                 amount_tok.end)
            return RelativeDate(amount, unit, span=(start, end), source=self.source)
        self.advance()
        span = (tok.start, tok.end)
        if tok.kind == "WORD" and tok.value.lower() in F.DATE_WORDS:
            return DateWord(tok.value.lower(), span=span, source=self.source)
        if tok.kind in ("DATE", "STRING"):
            iso = normalize_date(tok.value.strip())
            if iso == "invalid":
                raise self.error(_('invalid date "{value}"').format(value=tok.value), tok.start, tok.end)
            if iso is not None:
                return Literal(iso, "date", span=span, source=self.source)
            if tok.kind == "STRING":
                # "30 days ago" or "today" in quotes: read the quoted text as a value of its own.
                value = _quoted_date(name, tok.value)
                if isinstance(value, RelativeDate):
                    return RelativeDate(value.amount, value.unit, span=span, source=self.source)
                if isinstance(value, DateWord):
                    return DateWord(value.word, span=span, source=self.source)
        raise self.error(_("{name} needs a date (2026-01-31, 31/01/2026, today, 30 days ago), found {describe}").format(
                             name=name, describe=tok.describe()),
                         tok.start, tok.end, suggestion=suggest(tok.value.lower(), F.DATE_WORDS)
                         if tok.kind == "WORD" else None)


def _quoted_date(name: str, text: str) -> Value | None:
    try:
        inner = _Parser(Source(text), None)
        if inner.tok.kind == "EOF":
            return None
        value = inner.parse_date(name, inner.tok)
    except FilterSyntaxError:
        return None
    return value if inner.tok.kind == "EOF" else None


def _with_colon(word: str | None) -> str | None:
    return f"{word}:" if word else None


def normalize_date(text: str) -> str | None:
    """ISO form of a date (``2026-01-31``) or a UTC time (``2026-01-31T08:00:00Z``); None when the
    text is not shaped like one, ``"invalid"`` when it is shaped like one but does not exist."""
    match = _ISO_TIME.fullmatch(text)
    if match:
        day, hh, mm, ss, zone = match.groups()
        try:
            moment = datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss or '00'}")
            if zone and zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                digits = zone[1:].replace(":", "")
                offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                if offset > timedelta(hours=14):
                    return "invalid"
                moment -= sign * offset
        except (ValueError, OverflowError):
            return "invalid"
        return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
                f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(x) for x in match.groups())
    else:
        match = _FR_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(x) for x in match.groups())
    try:
        datetime(year, month, day)
    except ValueError:
        return "invalid"
    return f"{year:04d}-{month:02d}-{day:02d}"


def flag_value(flag: str, field_name: str, value: str) -> Node:
    """The condition a shortcut flag stands for (``--canton X`` is ``canton = X``), built without
    re-reading the value as language: whatever ``value`` holds, it stays one value."""
    source = Source(value, kind="flag", name=flag)
    parser = _Parser.__new__(_Parser)
    parser.source = source
    parser.tokens = [Token("STRING", value, 0, len(value)), Token("EOF", "", len(value), len(value))]
    parser.i = 0
    parser.depth = 0
    parser.custom_fields = None
    if not value.strip():
        raise FilterSyntaxError(_("needs a value"), source, 0, 1)
    span = (0, len(value))
    if field_name == "tag":
        return Tag(value.strip(), span=span, source=source)
    if field_name == "in":
        return SegmentRef(value.strip(), span=span, source=source)
    if field_name in ("consent", "reachable"):
        channel = value.strip().lower()
        allowed = F.CONSENT_CHANNELS if field_name == "consent" else F.REACHABLE_CHANNELS
        if channel not in allowed:
            raise FilterSyntaxError(_('unknown channel "{value}"').format(value=value), source, 0, len(value),
                                    suggestion=suggest(channel, allowed), hint=_("channels: {items}").format(
                                                                                   items=', '.join(allowed)))
        return (Consent if field_name == "consent" else Reachable)(channel, span=span, source=source)
    spec = F.lookup(field_name)
    if spec is None:
        raise ValueError(f"no field {field_name!r}")
    name = F.canonical_name(field_name)
    return Compare(name, "=", parser.parse_value(name, spec, "=", Token("OP", "=", 0, 0)), span=span, source=source)
