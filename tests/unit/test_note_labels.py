# ruff: noqa: RUF001 - Chinese notes come with Chinese punctuation.
"""R-CUS-03: a note is refused when it labels the customer as a person, not when it holds
a listed word (issue 14, item 3). The table is the rule's specification in the two
languages the stores write in; ``docs/rules.md`` (R-CUS-03) explains each decision."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customer import Customer, SubjectiveNote
from domain.note_vocabulary import CHINESE, ENGLISH, Label, Vocabulary
from domain.notes import Why, labels_in, read_note, tokens_of
from domain.policy import BASELINE
from domain.provenance import SourceRef
from tests.factories import unique

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
VOCABULARIES = BASELINE.note_vocabularies
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Verdict:
    """What R-CUS-03 decides: the labels a refusal names, or, for an accepted note, why
    each label word in it is not a label (none: no label word at all)."""

    labels: tuple[str, ...] = ()
    whys: tuple[Why, ...] = ()


def refused(*labels: str) -> Verdict:
    return Verdict(labels=labels)


def accepted(*whys: Why) -> Verdict:
    return Verdict(whys=whys)


def register() -> Customer:
    return Customer.register(
        customer_id="cust-1",
        personal=None,
        consents=("service",),
        channel="app",
        occurred_at=T0,
        source=SourceRef(unique("ev-"), "journey.customers", 0, 0),
    )


def add_note(customer: Customer, note: str) -> None:
    customer.add_note(
        note=note,
        author="ag-1",
        occurred_at=T0 + timedelta(minutes=5),
        source=SourceRef(unique("ev-"), "journey.customers", 0, 1),
    )


CUSTOMER_SAID = Why.CUSTOMERS_WORDS
COMPLEMENT = Why.CIRCUMSTANCE
THING = Why.THING
ELSE = Why.SOMEONE_ELSE

TABLE: list[tuple[str, Verdict]] = [
    # -- English ----------------------------------------------------------------------------
    ("Customer was difficult to reach by phone (3 attempts)", accepted(COMPLEMENT)),
    ("Hard to contact before 18:00; prefers SMS", accepted(COMPLEMENT)),
    ("Customer tried hard to fix the app", accepted(COMPLEMENT)),
    ("difficult customer", refused("difficult customer")),
    ("Difficult elderly customer", refused("Difficult")),
    ("She is picky.", refused("She is picky")),
    ("Picky about packaging: wants double boxing", accepted(COMPLEMENT)),
    ("Customer is picky about everything", refused("Customer is picky about everything")),
    ("Customer is difficult to deal with", refused("Customer is difficult to deal with")),
    ("Very rude, asked for the manager", refused("rude")),
    ("Rude and aggressive on the phone", refused("Rude", "aggressive")),
    ("Called them liars.", refused("them liars")),
    ("Customer's attitude was rude", refused("Customer's attitude was rude")),
    ("Customer has a bad attitude", refused("Customer has a bad attitude")),
    ("Customer is not difficult, just wants a refund", refused("Customer is not difficult")),
    ("Customer called the courier and was rude", refused("rude")),
    ("The courier found the customer rude", refused("customer rude")),
    ('Agent noted "Difficult!" (2nd call)', refused("Difficult")),
    ("Demanding customer, wants compensation", refused("Demanding customer")),
    ("Customer demanding a refund for the cracked lid", accepted(COMPLEMENT)),
    ("Customer is entitled to a refund (R-REF-01)", accepted(COMPLEMENT)),
    ("Customer said the courier was rude", accepted(CUSTOMER_SAID)),
    ('Customer: "you are all idiots", then hung up', accepted(CUSTOMER_SAID)),
    ("Customer called the agent an idiot and hung up", accepted(ELSE)),
    ("Customer: rude, hung up twice", refused("rude")),
    ("The courier was late and rude", accepted(ELSE)),
    ("Customer service was rude to the customer", accepted(ELSE)),
    ("Customer found the instructions difficult", accepted(THING)),
    ("Customer on the phone was difficult", refused("difficult")),
    ("Customer's new kettle is annoying: it beeps at night", accepted(THING)),
    ("Customer bought a kettle and the lid is annoying", accepted(THING)),
    ("An annoying rattle from the kettle lid since Monday", accepted(THING)),
    ("Reports an annoying rattle from the kettle lid", accepted(CUSTOMER_SAID)),
    ("Bad weather delayed the delivery", accepted()),
    ("Customer is hard of hearing; speak slowly", accepted()),
    ("Reported difficulty pairing the kettle app", accepted()),
    ("Customer was angry about the delay", accepted()),
    # -- Chinese ----------------------------------------------------------------------------
    ("客户很难缠", refused("客户很难缠")),
    ("难缠的顾客，第三次来电", refused("难缠的顾客")),
    ("刁蛮客户，事儿多", refused("刁蛮客户", "事儿多")),
    ("无理取闹，要求全额赔偿", refused("无理取闹")),
    ("顾客很挑剔", refused("顾客很挑剔")),
    ("顾客对什么都挑剔", refused("挑剔")),
    ("她并不难缠，只是想退款", refused("她并不难缠")),
    ("客户打了三次电话，很难缠", refused("难缠")),
    ("客户态度很差", refused("客户态度很差")),
    ("客户说话很冲", refused("客户说话很冲")),
    ("客户脾气大，挂了两次电话", refused("客户脾气大")),
    ("麻烦的客户", refused("麻烦的客户")),
    ("这个客户很难搞定", refused("客户很难搞")),
    ("店员觉得客户很傲慢", refused("客户很傲慢")),
    ("打电话难以联系上，已发短信", accepted()),
    ("客户电话一直联系不上（3次）", accepted()),
    ("客户对包装比较挑剔，要求加固", accepted(COMPLEMENT)),
    ("麻烦仓库尽快发货", accepted(COMPLEMENT)),
    ("客户说快递员态度很差", accepted(CUSTOMER_SAID)),
    ("客户表示，快递员态度很差", accepted(CUSTOMER_SAID)),
    ("客户觉得店员很傲慢", accepted(CUSTOMER_SAID)),
    ("客户原话：“你们都是奇葩”", accepted(CUSTOMER_SAID)),
    ("快递员态度恶劣，客户要求投诉", accepted(ELSE)),
    ("快递员迟到了，还很凶", accepted(ELSE)),
    ("退货流程太麻烦了，客户希望上门取件", accepted(THING)),
    ("天气恶劣，配送延迟一天", accepted(THING)),
    ("奇怪的异响，客户要求换货", accepted(THING)),
    ("质量差，要求退货", accepted()),
    ("这件事多次联系客户未果", accepted()),
    ("客户怕麻烦，希望上门取件", accepted()),
    ("吉他弦断了，顾客要求换新", accepted()),
    # -- both -------------------------------------------------------------------------------
    ("Customer 很难缠", refused("Customer 很难缠")),
    ("Very 挑剔 customer", refused("挑剔 customer")),
    ("难缠, asked for the manager", refused("难缠")),
    ("客户 is picky about 包装", accepted(COMPLEMENT)),
    ("客户说 the courier was rude", accepted(CUSTOMER_SAID)),
    ("Difficult to reach, 已发短信", accepted(COMPLEMENT)),
]
REFUSED = [note for note, verdict in TABLE if verdict.labels]
ACCEPTED = [note for note, verdict in TABLE if not verdict.labels]


@pytest.mark.parametrize(("note", "verdict"), TABLE, ids=[note for note, _ in TABLE])
def test_r_cus_03_each_note_of_the_table(note: str, verdict: Verdict) -> None:
    readings = read_note(note, VOCABULARIES)

    assert labels_in(note, VOCABULARIES) == list(verdict.labels)
    if not verdict.labels:
        assert tuple(r.why for r in readings) == verdict.whys


def test_r_cus_03_the_table_covers_both_languages_and_both_verdicts() -> None:
    english = [n for n, _ in TABLE if LATIN.search(n) and not HAN.search(n)]
    chinese = [n for n, _ in TABLE if HAN.search(n) and not LATIN.search(n)]
    mixed = [n for n, _ in TABLE if HAN.search(n) and LATIN.search(n)]

    assert len(TABLE) >= 40
    assert len(english) >= 20
    assert len(chinese) >= 20
    assert len(mixed) >= 4
    for notes in (english, chinese, mixed):
        verdicts = {bool(verdict.labels) for n, verdict in TABLE if n in notes}
        assert verdicts == {True, False}
    assert {r.why for n in ACCEPTED for r in read_note(n, VOCABULARIES)} == set(Why) - {
        Why.CUSTOMER
    }


def test_r_cus_03_the_refusal_names_the_rule_each_label_and_what_to_do() -> None:
    customer = register()

    with pytest.raises(SubjectiveNote) as caught:
        add_note(customer, "Difficult customer; 刁蛮客户")

    assert caught.value.rule == "R-CUS-03"
    assert caught.value.labels == ("Difficult customer", "刁蛮客户")
    assert str(caught.value) == (
        'R-CUS-03: "Difficult customer", "刁蛮客户" label the customer; record what happened'
        f" instead (customer 'cust-1', policy {BASELINE.version})"
    )
    with pytest.raises(SubjectiveNote, match='R-CUS-03: "客户很难缠" labels the customer; '):
        add_note(customer, "客户很难缠")


@pytest.mark.parametrize("note", ACCEPTED)
def test_r_cus_03_an_accepted_note_is_recorded(note: str) -> None:
    customer = register()

    add_note(customer, note)

    assert isinstance(customer.collect_events()[-1], Customer.NoteAdded)


# -- properties -------------------------------------------------------------------------------

STOPS = st.sampled_from([". ", "。", "！", "\n", "; "])


@given(
    label=st.sampled_from(REFUSED),
    before=st.lists(st.sampled_from(ACCEPTED), max_size=2),
    after=st.lists(st.sampled_from(ACCEPTED), max_size=2),
    stops=st.lists(STOPS, min_size=4, max_size=4),
)
def test_r_cus_03_facts_around_a_label_never_hide_it(
    label: str, before: list[str], after: list[str], stops: list[str]
) -> None:
    """A refused note stays refused, naming the same labels, whatever factual sentences
    are written before or after it."""
    parts = [*before, label, *after]
    note = "".join(part + stops[i % len(stops)] for i, part in enumerate(parts))

    assert labels_in(note, VOCABULARIES) == labels_in(label, VOCABULARIES)


@pytest.mark.parametrize("note", [n for n, _ in TABLE if not HAN.search(n)])
def test_r_cus_03_case_does_not_matter(note: str) -> None:
    assert labels_in(note.upper(), VOCABULARIES) == [
        label.upper() for label in labels_in(note, VOCABULARIES)
    ]


def vocabulary_words() -> set[str]:
    words: set[str] = set()
    for vocabulary in VOCABULARIES:
        entries = [
            *(label.words for label in vocabulary.labels),
            *(w for label in vocabulary.labels for c in label.facts for w in c.leads | c.unless),
            *vocabulary.customer,
            *vocabulary.others,
            *vocabulary.aspects,
            *vocabulary.links,
            *vocabulary.joins,
            *vocabulary.sayings,
            *vocabulary.marks,
        ]
        words.update(word for entry in entries for word in tokens_of(entry))
    return words


WORDS = sorted(vocabulary_words())
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from([label.words for v in VOCABULARIES for label in v.labels]),
    st.text(alphabet="abcxyz李王包装流程", min_size=1, max_size=5),
)
GLUE = st.sampled_from([" ", " ", " ", "", ", ", "，", "。", ". ", ": ", "：", '"', "“", "”", "-"])


@given(st.lists(st.tuples(PIECES, GLUE), max_size=14))
def test_r_cus_03_a_refusal_quotes_only_words_of_the_vocabulary(
    pieces: list[tuple[str, str]],
) -> None:
    """Whatever the note, reading it never fails, and each label named is a part of the
    note made of vocabulary words only: a refusal reason (dead letters, logs) carries no
    other word of the note, which may be personal data (R-CUS-03, R-CUS-04)."""
    note = "".join(piece + glue for piece, glue in pieces)

    for reading in read_note(note, VOCABULARIES):
        assert note[reading.start : reading.end] == reading.words
    for label in labels_in(note, VOCABULARIES):
        assert label in note
        for word in tokens_of(label):
            assert word in WORDS or any(
                word.endswith(ending) and word[: -len(ending)] in WORDS
                for ending in ("'s", "es", "s")
            ), (label, word)


# -- the vocabulary ---------------------------------------------------------------------------


def test_r_cus_03_the_policy_has_a_table_per_language() -> None:
    assert [v.language for v in VOCABULARIES] == ["en", "zh"]
    assert VOCABULARIES == (ENGLISH, CHINESE)


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.language)
def test_r_cus_03_entries_are_written_in_their_language(vocabulary: Vocabulary) -> None:
    script = LATIN if vocabulary.language == "en" else HAN
    entries = [
        *(label.words for label in vocabulary.labels),
        *vocabulary.customer,
        *vocabulary.others,
        *vocabulary.aspects,
        *vocabulary.links,
        *vocabulary.joins,
        *vocabulary.sayings,
        *vocabulary.copulas,
        *vocabulary.not_labels,
    ]
    for entry in entries:
        assert all(script.match(ch) or ch in " '" for ch in entry), entry
        assert entry == entry.casefold(), entry


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.language)
def test_r_cus_03_copulas_are_links(vocabulary: Vocabulary) -> None:
    """The reader looks back over links; a copula it should notice must be one."""
    assert vocabulary.copulas <= vocabulary.links


def test_r_cus_03_a_word_has_one_role_in_the_vocabulary() -> None:
    clash = replace(ENGLISH, labels=(*ENGLISH.labels, Label("courier")))

    with pytest.raises(ValueError, match="'courier' is both"):
        read_note("courier", (clash, CHINESE))
