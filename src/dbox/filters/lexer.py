"""The filter language's lexer: text -> tokens that keep their position in the source.

Tokens are few: bare words (``canton``, ``Grenoble-1``, ``+33612345678``, ``and``), quoted strings
(``"porte-à-porte"``, ``'x'``, ``“x”``, ``« x »``), dates (``2026-01-31``, ``31/01/2026``,
``2026-01-31T08:00:00Z``), numbers, operators (``= != < <= > >= ^= ~ !~``), parentheses, commas and
the colon of ``tag:militant``. Keywords (``and``, ``or``, ``not``, ``in``, ``is``, ``empty``) are
bare words; the parser gives them their meaning, case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbox.filters.errors import FilterSyntaxError, Source
from dbox.i18n import _

# A bare word: a letter, digit or underscore (any script), then letters, digits and . - @ ' ’ / _
# A leading + or - is allowed for phone numbers and signed numbers.
BARE = re.compile(r"[+\-]?\w[\w.\-@'’/]*")
NUMBER = re.compile(r"[+\-]?\d+(?:\.\d+)?")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+\-]\d{2}:?\d{2})?(?![\w:])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}")
_OPERATORS = ("!=", "<>", "<=", ">=", "==", "^=", "!~", "=", "<", ">", "~")
_QUOTES = {'"': '"', "'": "'", "“": "”", "«": "»"}
_SPACE = re.compile(r"\s+")
MAX_LENGTH = 20_000


@dataclass(frozen=True)
class Token:
    kind: str        # WORD NUMBER DATE STRING OP LPAREN RPAREN COMMA COLON EOF
    value: str       # the word, the unescaped string, the operator
    start: int       # offset of the first character in the source
    end: int         # offset after the last character

    def describe(self) -> str:
        if self.kind == "EOF":
            return "the end of the expression"
        if self.kind == "STRING":
            return f'the text "{self.value}"'
        return f'"{self.value}"'


def tokenize(source: Source | str) -> list[Token]:
    """Split the text into tokens, ending with an EOF token; raises FilterSyntaxError."""
    if isinstance(source, str):
        source = Source(source)
    text = source.text
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(_("expression too long ({n} characters, at most {MAX_LENGTH})").format(
                                    n=len(text), MAX_LENGTH=MAX_LENGTH),
                                source, MAX_LENGTH, len(text))
    tokens: list[Token] = []
    i, n = 0, len(text)
    while True:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
        if i >= n:
            tokens.append(Token("EOF", "", n, n))
            return tokens
        ch = text[i]
        if ch in _QUOTES:
            tokens.append(_string(source, i, _QUOTES[ch]))
        elif ch == "(":
            tokens.append(Token("LPAREN", "(", i, i + 1))
        elif ch == ")":
            tokens.append(Token("RPAREN", ")", i, i + 1))
        elif ch == ",":
            tokens.append(Token("COMMA", ",", i, i + 1))
        elif ch == ":":
            tokens.append(Token("COLON", ":", i, i + 1))
        else:
            token = _word(text, i) or _operator(text, i)
            if token is None:
                raise FilterSyntaxError(_('unexpected character "{ch}"').format(ch=ch), source, i, i + 1)
            tokens.append(token)
        i = tokens[-1].end


def _word(text: str, i: int) -> Token | None:
    match = _DATETIME.match(text, i)
    if match:
        return Token("DATE", match.group(), i, match.end())
    match = BARE.match(text, i)
    if not match:
        return None
    word = match.group()
    if _DATE.fullmatch(word):
        return Token("DATE", word, i, match.end())
    if NUMBER.fullmatch(word):
        return Token("NUMBER", word, i, match.end())
    if word[0] in "+-" and not word[1].isdigit():
        return None  # "-x" is not a word: let the caller report the sign
    return Token("WORD", word, i, match.end())


def _operator(text: str, i: int) -> Token | None:
    for op in _OPERATORS:
        if text.startswith(op, i):
            return Token("OP", op, i, i + len(op))
    return None


def _string(source: Source, start: int, closing: str) -> Token:
    """A quoted string; a backslash escapes the closing quote or itself, nothing else."""
    text = source.text
    opening = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (closing, "\\"):
            chars.append(text[i + 1])
            i += 2
            continue
        if ch == closing:
            value = "".join(chars)
            if opening == "«":
                value = value.strip(" \u00a0\u202f")
            return Token("STRING", value, start, i + 1)
        chars.append(ch)
        i += 1
    raise FilterSyntaxError(_("unterminated text: the {opening} has no closing {closing}").format(
                                opening=opening, closing=closing), source, start, start + 1)
