# ruff: noqa: RUF001, RUF002, RUF003 - Chinese notes come with Chinese punctuation.
"""Whether a customer note labels the customer as a person (R-CUS-03).

Pure Python and small enough to explain. A note is cut into words (English) and characters
(Chinese), then into clauses at punctuation. Each subjective label of the vocabulary
(``domain.note_vocabulary``) found in it is read in its clause, by these steps, the first
that applies deciding:

1. Inside the customer's reported words ("Customer said the courier was rude", "客户表示，
   快递员态度很差", a quotation after "Customer said:", 'Customer: "…"' or "顾客：“…”") it
   is a fact: what the customer said. "Customer: rude" (no quotation) is not.
2. A complement that says what it is about makes it a fact: "difficult *to reach*",
   "picky *about packaging*", "*对包装*很挑剔", "demanding *a refund*". A complement about
   dealing with the person ("hard to *deal with*") or about everything ("对*什么*都挑剔")
   does not.
3. The noun it describes: a person ("difficult *customer*", "难缠的*顾客*", "刁蛮*客户*") — a
   label; a manner ("bad *attitude*") — a label of its owner; another party ("rude
   *courier*") — not the customer; for a word also said of things, a thing ("annoying
   *noise*", "麻烦的*流程*") — a fact.
4. Who it is said of, looking back over links ("is", "very", "not", "很", "不"): the
   customer ("*she* is picky", "*客户*很难缠") — a label; another party ("the *courier* was
   rude") — not the customer; a manner ("*态度*很差") — its owner's; a thing ("the *app* is
   annoying", "*流程*很麻烦") — a fact for a word also said of things, unless a verb "is"
   ties the label to the person the clause starts with ("*Customer* on the phone *was*
   difficult"). Otherwise — nothing
   before it, or after "and" — it is said of the clause's subject: the person the clause
   starts with, or the one of the clause before it in the sentence, or else the customer,
   whom a note is about ("Very rude, asked for the manager").

Negation is a link: "not difficult" still judges the person. A label named in a refusal is
quoted with only the vocabulary's words around it, never the rest of the note, so refusal
reasons carry no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from domain.note_vocabulary import ANYTHING, Complement, Label, Vocabulary

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(
    rf"(?P<han>[{_HAN}])"
    rf"|(?P<word>(?:(?![{_HAN}])[^\W_])+(?:['’](?:(?![{_HAN}])[^\W_])+)*)"
    r"|(?P<quote>[\"“”「」『』«»])"
    r"|(?P<stop>[.!?;。！？；…\n])"
    r"|(?P<pause>[,，、:：()（）\[\]【】《》—–])"
)
_OPENING, _CLOSING = "“「『«", "”」』»"
_COLONS = ":："
_PLURAL = ("'s", "es", "s")
_LOOKAHEAD = 4
"""How many words after an adjective may name the noun it describes ("difficult elderly
customer")."""


class Why(Enum):
    """Why a label word of a note labels the customer or not (R-CUS-03)."""

    CUSTOMER = "said of the customer"
    CIRCUMSTANCE = "completed by what it is about"
    THING = "describes a thing or an event"
    SOMEONE_ELSE = "said of someone else"
    CUSTOMERS_WORDS = "the customer's own words, reported"


@dataclass(frozen=True)
class Reading:
    """One label word of a note as R-CUS-03 reads it. ``words``: the label as written with
    the vocabulary words that make it one ("difficult customer", "客户很难缠"); ``detail``:
    for a complement, what the note records ("a preference about a thing")."""

    words: str
    start: int
    end: int
    why: Why
    detail: str = ""

    @property
    def labels_customer(self) -> bool:
        return self.why is Why.CUSTOMER


class _Role(Enum):
    LABEL = "label"
    CUSTOMER = "customer"
    OTHER = "other"
    ASPECT = "aspect"
    LINK = "link"
    JOIN = "join"
    SAYING = "saying"
    MARK = "mark"
    NOT = "not a label"
    WORD = "word"
    STOP = "stop"
    PAUSE = "pause"
    QUOTE = "quote"


_BOUNDARIES = {"stop": _Role.STOP, "pause": _Role.PAUSE, "quote": _Role.QUOTE}
_SKIPPED_BACK = (_Role.LINK, _Role.JOIN, _Role.LABEL)
_PEOPLE = (_Role.CUSTOMER, _Role.OTHER)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class _Unit:
    role: _Role
    start: int
    end: int
    first: int
    text: str
    han: bool = False
    label: Label | None = None


@dataclass(frozen=True)
class _Outcome:
    """A complement beside a label: it makes the label a ``fact``, or it is about dealing
    with the person ("hard to deal with") and ends at ``end`` (in characters)."""

    fact: bool
    end: int = 0


@dataclass(frozen=True)
class _Lexicon:
    entries: dict[tuple[str, ...], tuple[_Role, Label | None]]
    longest: int
    grammar: frozenset[str]
    copulas: frozenset[str]


def read_note(text: str, vocabularies: Sequence[Vocabulary]) -> tuple[Reading, ...]:
    """Every label word of ``text`` as R-CUS-03 reads it, in order of appearance."""
    return _Note(text, _lexicon(tuple(vocabularies))).readings()


def labels_in(text: str, vocabularies: Sequence[Vocabulary]) -> list[str]:
    """The labels of the customer in ``text`` (R-CUS-03), as written, distinct, in order."""
    found = [r.words for r in read_note(text, vocabularies) if r.labels_customer]
    return list(dict.fromkeys(found))


def tokens_of(text: str) -> list[str]:
    """The words (English, folded) and characters (Chinese) of ``text``, punctuation left
    out: how the vocabulary and notes are matched."""
    return [t.text for t in _tokens(text) if t.kind in ("han", "word")]


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(_fold(m.group()), m.start(), m.end(), m.lastgroup or "")
        for m in _TOKEN.finditer(text)
    ]


def _joined(tokens: Sequence[_Token]) -> str:
    """Words as a unit's text: English words by a space, Chinese characters without."""
    return ("" if tokens and tokens[0].kind == "han" else " ").join(t.text for t in tokens)


def _fold(word: str) -> str:
    return word.replace("’", "'").casefold()


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens_of(text))


@lru_cache(maxsize=16)
def _lexicon(vocabularies: tuple[Vocabulary, ...]) -> _Lexicon:
    entries: dict[tuple[str, ...], tuple[_Role, Label | None]] = {}

    def add(words: str, role: _Role, label: Label | None = None) -> None:
        key = _phrase(words)
        known = entries.get(key)
        if known is not None and known[0] is not role:
            raise ValueError(f"R-CUS-03 vocabulary: {words!r} is both {known[0]} and {role}")
        entries[key] = (role, label)

    for vocabulary in vocabularies:
        for label in vocabulary.labels:
            add(label.words, _Role.LABEL, label)
        for role, words in (
            (_Role.CUSTOMER, vocabulary.customer),
            (_Role.OTHER, vocabulary.others),
            (_Role.ASPECT, vocabulary.aspects),
            (_Role.LINK, vocabulary.links),
            (_Role.JOIN, vocabulary.joins),
            (_Role.SAYING, vocabulary.sayings),
            (_Role.MARK, vocabulary.marks),
            (_Role.NOT, vocabulary.not_labels),
        ):
            for word in words:
                add(word, role)
    grammar = frozenset(w for v in vocabularies for w in v.grammar)
    copulas = frozenset(_joined(_tokens(w)) for v in vocabularies for w in v.copulas)
    return _Lexicon(entries, max(map(len, entries), default=1), grammar, copulas)


class _Note:
    """One note cut into units (vocabulary entries, other words, punctuation) and clauses."""

    def __init__(self, text: str, lexicon: _Lexicon) -> None:
        self.text = text
        self.lexicon = lexicon
        self.tokens = _tokens(text)
        self.units = self._lex()
        self.clause, self.members = self._clauses()
        self.spoken = self._customers_words()

    # -- cutting ---------------------------------------------------------------------------

    def _lex(self) -> list[_Unit]:
        units: list[_Unit] = []
        tokens, i = self.tokens, 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind in _BOUNDARIES:
                units.append(_Unit(_BOUNDARIES[token.kind], token.start, token.end, i, token.text))
                i += 1
                continue
            size, role, label = self._entry_at(i)
            last = tokens[i + size - 1]
            text = _joined(tokens[i : i + size])
            units.append(_Unit(role, token.start, last.end, i, text, token.kind == "han", label))
            i += size
        return units

    def _entry_at(self, i: int) -> tuple[int, _Role, Label | None]:
        """The longest vocabulary entry starting at token ``i`` (a plain word if none)."""
        words: list[str] = []
        for token in self.tokens[i : i + self.lexicon.longest]:
            if token.kind not in ("han", "word"):
                break
            words.append(token.text)
        for size in range(len(words), 0, -1):
            for key in _forms(words[:size]):
                found = self.lexicon.entries.get(key)
                if found is not None:
                    return size, found[0], found[1]
        return 1, _Role.WORD, None

    def _clauses(self) -> tuple[list[int], dict[int, list[int]]]:
        """The clause of each unit (a boundary closes the clause before it), and the units
        of each clause, boundaries left out."""
        clause: list[int] = []
        members: dict[int, list[int]] = {}
        number = 0
        for i, unit in enumerate(self.units):
            clause.append(number)
            if unit.role in _BOUNDARIES.values():
                number += 1
            else:
                members.setdefault(number, []).append(i)
        return clause, members

    def _quote_ends(self) -> dict[int, int]:
        """Each opening quotation mark's unit and the unit that closes it (or the end)."""
        ends: dict[int, int] = {}
        opened: int | None = None
        for i, unit in enumerate(self.units):
            if unit.role is not _Role.QUOTE:
                continue
            mark = self.text[unit.start]
            if opened is None and mark not in _CLOSING:
                opened = i
            elif opened is not None and mark not in _OPENING:
                ends[opened] = i
                opened = None
        if opened is not None:
            ends[opened] = len(self.units)
        return ends

    def _customers_words(self) -> set[int]:
        """Units the customer is reported to have said (step 1)."""
        quotes = self._quote_ends()
        spoken: set[int] = set()
        for i, unit in enumerate(self.units):
            after = i + 1
            said = unit.role is _Role.SAYING and self._is_customer(self._subject(i))
            colon = (
                unit.role is _Role.CUSTOMER
                and after < len(self.units)
                and self.text[self.units[after].start] in _COLONS
            )
            if not (said or colon):
                continue
            if colon or (after < len(self.units) and self.units[after].role is _Role.PAUSE):
                after += 1  # "said: …", "表示，…": the words are the next clause
            if after >= len(self.units) or (colon and after not in quotes):
                continue  # "Customer: rude" is the agent's shorthand, not a quotation
            if after in quotes:
                spoken.update(range(after + 1, quotes[after]))
            elif self.units[after].role not in (*_BOUNDARIES.values(), _Role.JOIN):
                # the rest of the clause; not after "and": "complained and was rude"
                spoken.update(j for j in self._clause_units(after) if j >= after)
        return spoken

    # -- navigating ------------------------------------------------------------------------

    def _clause_units(self, i: int) -> list[int]:
        return self.members.get(self.clause[i], [])

    def _next(self, i: int) -> int | None:
        j = i + 1
        if j < len(self.units) and self.clause[j] == self.clause[i]:
            return j if self.units[j].role not in _BOUNDARIES.values() else None
        return None

    def _prev(self, i: int) -> int | None:
        j = i - 1
        if j >= 0 and self.clause[j] == self.clause[i]:
            return j
        return None

    def _role(self, i: int | None) -> _Role | None:
        return None if i is None else self.units[i].role

    def _subject(self, i: int) -> int | None:
        """The person unit ``i``'s clause starts with (after links, before ``i``); else
        that of the clause before it, when only a comma or a colon lies between (not a
        full stop, not a quotation mark); ``None``: the customer."""
        clause = [j for j in self._clause_units(i) if j < i]
        first = self._clause_units(i)[0] if self._clause_units(i) else i
        while True:
            for j in clause:
                if self.units[j].role not in (_Role.LINK, _Role.JOIN):
                    if self.units[j].role in _PEOPLE:
                        return j
                    break
            before = first - 1
            if before < 1 or self.units[before].role is not _Role.PAUSE:
                return None
            clause = self._clause_units(before - 1)
            if not clause or clause[-1] != before - 1:
                return None  # two marks in a row: nothing to carry over
            first = clause[0]

    def _subject_of_copula(self, j: int) -> int | None:
        """For "<subject> <words> is <label>", the person that starts the part of the
        clause ending at ``j`` (after its last "and"), when not a possessive: "Customer on
        the phone was difficult" is said of the customer, "Customer's app is annoying" and
        "Customer bought a kettle and the lid is annoying" of a thing (``None``)."""
        part = [k for k in self._clause_units(j) if k <= j]
        joins = [n for n, k in enumerate(part) if self.units[k].role is _Role.JOIN]
        for k in part[joins[-1] + 1 if joins else 0 :]:
            if self.units[k].role is _Role.LINK:
                continue
            after = self._next(k)
            possessive = self.units[k].text.endswith("'s") or (
                after is not None and self.units[after].role is _Role.MARK
            )
            return k if self.units[k].role in _PEOPLE and not possessive else None
        return None

    def _is_customer(self, i: int | None) -> bool:
        return i is None or self.units[i].role is _Role.CUSTOMER

    def _starts_with(self, i: int, phrases: frozenset[str]) -> int | None:
        """The end (in characters) of the longest of ``phrases`` starting at unit ``i``."""
        ordered = sorted(map(_phrase, phrases), key=len, reverse=True)
        first = self.units[i].first
        words = [t.text for t in self.tokens[first : first + (len(ordered[0]) if ordered else 0)]]
        for phrase in ordered:
            if phrase and tuple(words[: len(phrase)]) == phrase:
                return self.tokens[self.units[i].first + len(phrase) - 1].end
        return None

    # -- reading ---------------------------------------------------------------------------

    def readings(self) -> tuple[Reading, ...]:
        found = (self._read(i) for i, u in enumerate(self.units) if u.role is _Role.LABEL)
        return tuple(r for r in found if r is not None)

    def _reading(self, first: int, last: int, why: Why, detail: str = "", end: int = 0) -> Reading:
        start, stop = self.units[first].start, max(self.units[last].end, end)
        return Reading(self.text[start:stop], start, stop, why, detail)

    def _read(self, i: int) -> Reading | None:
        label = self.units[i].label
        if label is None:
            return None
        if i in self.spoken:
            return self._reading(i, i, Why.CUSTOMERS_WORDS)
        if label.needs_aspect:
            aspect = self._aspect_beside(i)
            return None if aspect is None else self._of_aspect(i, aspect)
        end, vague = 0, False
        for complement in label.facts:
            outcome = self._complement(i, complement)
            if outcome is None:
                continue
            if outcome.fact:
                return self._reading(i, i, Why.CIRCUMSTANCE, complement.meaning)
            end, vague = max(end, outcome.end), vague or complement.before
        described = self._described(i, label)
        if described is not None:
            return self._said_of(i, described, end)
        return self._said_of_before(i, label, end, vague)

    def _complement(self, i: int, complement: Complement) -> _Outcome | None:
        """Whether ``complement`` stands beside label ``i`` and makes it a fact (step 2);
        ``None``: it is not there."""
        if complement.before:
            return self._complement_before(i, complement)
        j = self._next(i)
        if j is None:
            return None
        if complement.leads:
            if self.units[j].text not in complement.leads:
                return None
            j = self._next(j)
            while j is not None and self.units[j].role is _Role.LINK:
                j = self._next(j)
        elif self.units[j].role in (_Role.LINK, _Role.MARK, _Role.JOIN, _Role.LABEL):
            return None
        if j is None:
            return None
        end = self._starts_with(j, complement.unless)
        return _Outcome(fact=end is None, end=end or 0)

    def _complement_before(self, i: int, complement: Complement) -> _Outcome | None:
        j, between = self._prev(i), list[int]()
        while j is not None and len(between) <= 8:
            unit = self.units[j]
            if unit.role is _Role.WORD and unit.text in complement.leads:
                words = [k for k in between if self.units[k].role is not _Role.LINK]
                if not words:
                    return None
                return _Outcome(fact=self._starts_with(min(words), complement.unless) is None)
            if unit.role not in (_Role.LINK, _Role.WORD):
                return None
            between.append(j)
            j = self._prev(j)
        return None

    def _described(self, i: int, label: Label) -> int | None:
        """The unit of the noun the label describes (step 3): a person, a manner, another
        party, or the first word of a thing; ``None`` when no noun follows it."""
        j = self._next(i)
        marked = j is not None and self.units[j].role is _Role.MARK
        if marked:
            j = self._next(j) if j is not None else None
        if j is None:
            return None
        if self.units[j].role in (*_PEOPLE, _Role.ASPECT):
            return j
        if label.said_of != ANYTHING or self.units[j].role is not _Role.WORD:
            return None
        if self.units[i].han and not marked:
            return None  # 难搞定: no 的, no noun
        first = self.units[j].text
        if not self.units[j].han and (
            first in self.lexicon.grammar or (first.endswith("ed") and len(first) > 4)
        ):
            return None  # "difficult yesterday", "difficult, asked" without the comma
        k: int | None = j
        for _ in range(_LOOKAHEAD):
            k = self._next(k) if k is not None else None
            if k is None or self.units[k].role is not _Role.WORD:
                break
            if self.units[k].text in self.lexicon.grammar:
                break  # "an annoying noise from the customer's phone"
        if k is not None and self.units[k].role in (_Role.CUSTOMER, _Role.ASPECT):
            return k  # "difficult elderly customer"
        return j

    def _said_of(self, i: int, j: int, end: int) -> Reading:
        role = self.units[j].role
        if role is _Role.ASPECT:
            return self._of_aspect(i, j)
        if role is _Role.OTHER:
            return self._reading(i, i, Why.SOMEONE_ELSE)
        if role is _Role.CUSTOMER:
            # "difficult customer", "难缠的顾客"; "difficult elderly customer" names the
            # label alone: a refusal quotes no word outside the vocabulary
            adjacent = all(self.units[k].role is _Role.MARK for k in range(i + 1, j))
            return self._reading(i, j if adjacent else i, Why.CUSTOMER, end=end)
        return self._reading(i, i, Why.THING)

    def _said_of_before(self, i: int, label: Label, end: int, vague: bool) -> Reading:
        """Step 4: who or what the label is said of, looking back; ``vague``: what stands
        before it is "对什么都…" (about everything), no thing to describe."""
        j, crossed, copula = self._prev(i), False, False
        while j is not None and self.units[j].role in _SKIPPED_BACK:
            crossed = crossed or self.units[j].role is _Role.JOIN
            copula = copula or self.units[j].text in self.lexicon.copulas
            j = self._prev(j)
        role = self._role(j)
        if j is not None and not crossed and not vague:
            if role is _Role.CUSTOMER:
                return self._reading(j, i, Why.CUSTOMER, end=end)
            if role is _Role.OTHER:
                return self._reading(i, i, Why.SOMEONE_ELSE)
            if role is _Role.ASPECT:
                return self._of_aspect(i, j)
            if label.said_of == ANYTHING:
                subject = self._subject_of_copula(j) if copula else None
                if subject is None:
                    return self._reading(i, i, Why.THING)  # "the app is annoying"
                if self.units[subject].role is _Role.OTHER:
                    return self._reading(i, i, Why.SOMEONE_ELSE)
                return self._reading(i, i, Why.CUSTOMER, end=end)
        subject = self._subject(i)
        if not self._is_customer(subject):
            return self._reading(i, i, Why.SOMEONE_ELSE)
        return self._reading(i, i, Why.CUSTOMER, end=end)

    def _aspect_beside(self, i: int) -> int | None:
        j = self._next(i)
        if j is not None and self.units[j].role is _Role.ASPECT:
            return j
        j = self._prev(i)
        while j is not None and self.units[j].role is _Role.LINK:
            j = self._prev(j)
        return j if self._role(j) is _Role.ASPECT else None

    def _of_aspect(self, i: int, aspect: int) -> Reading:
        """A label of a manner ("态度很差", "bad attitude") is a label of its owner: the
        person just before the manner, or else the clause's subject."""
        j = self._prev(aspect)
        while j is not None and self.units[j].role in (_Role.LINK, _Role.MARK, _Role.LABEL):
            j = self._prev(j)
        owner = j if self._role(j) in _PEOPLE else self._subject(aspect)
        if not self._is_customer(owner):
            return self._reading(i, i, Why.SOMEONE_ELSE)
        first = owner if owner is not None and owner == j else aspect
        if aspect > i and any(self.units[k].role is not _Role.MARK for k in range(i + 1, aspect)):
            first, aspect = i, i  # "bad old attitude": the label alone, as in _said_of
        return self._reading(min(first, i), max(aspect, i), Why.CUSTOMER)


def _forms(words: list[str]) -> list[tuple[str, ...]]:
    """``words`` as written, then with an English plural or possessive ending dropped."""
    forms = [tuple(words)]
    last = words[-1]
    if len(last) > 3 and last.isascii():
        for ending in _PLURAL:
            if last.endswith(ending):
                forms.append((*words[:-1], last[: -len(ending)]))
    return forms
