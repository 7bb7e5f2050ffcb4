"""The words R-CUS-03 judges customer notes with: declared data, one table per language.

A note is refused when it labels the customer as a person ("difficult customer", "客户很难缠"),
not when it merely contains a listed word ("difficult to reach by phone"). ``domain.notes``
reads a note with these tables; ``docs/rules.md`` (R-CUS-03) explains how, with the cases
decided. The tables are the policy's (``Policy.note_vocabularies``), so a policy version
names the words that judged a note.

Entries are written as they appear in notes: English by words (matched whole, any case, a
final "s" / "es" / "'s" allowed), Chinese by characters (matched inside longer text, the
longest entry first, so "难缠" is found in "很难缠了" and "怕麻烦" (dislikes hassle) is not
read as "麻烦").
"""

from __future__ import annotations

from dataclasses import dataclass

PEOPLE = "people"
"""A label said only of people ("rude", "liar", "难缠"): it labels the customer unless it is
said of someone else or is the customer's own reported words (R-CUS-03)."""
ANYTHING = "anything"
"""A label also said of things and events ("difficult", "annoying", "麻烦"): it labels the
customer only when said of them; "an annoying noise", "流程很麻烦" describe things."""


@dataclass(frozen=True)
class Complement:
    """Words beside a label that make it say what something was, not what the customer is
    (R-CUS-03): one of ``leads`` right after the label ("difficult *to* reach", "picky
    *about* packaging"), or, with ``before``, ahead of it ("*对*包装很挑剔"), then at least
    one word — none starting with one of ``unless`` ("difficult to *deal with*", "picky
    about *everything*" stay labels). No ``leads``: any word right after the label (the
    polite "麻烦您…", "麻烦尽快发货" is "please"). ``meaning`` is what the note then records."""

    leads: frozenset[str]
    meaning: str
    unless: frozenset[str] = frozenset()
    before: bool = False


@dataclass(frozen=True)
class Label:
    """One subjective label of R-CUS-03: ``words`` as written, who it can be ``said_of``
    (``PEOPLE`` or ``ANYTHING``), the complements that make it a fact, and whether it is a
    label only beside a word for a person's manner (``needs_aspect``: "bad *attitude*",
    "态度很差", while "bad weather", "质量差" are no label at all)."""

    words: str
    said_of: str = PEOPLE
    facts: tuple[Complement, ...] = ()
    needs_aspect: bool = False


def labels(
    *words: str,
    said_of: str = PEOPLE,
    facts: tuple[Complement, ...] = (),
    needs_aspect: bool = False,
) -> tuple[Label, ...]:
    return tuple(Label(w, said_of, facts, needs_aspect) for w in words)


@dataclass(frozen=True)
class Vocabulary:
    """The words of one language that R-CUS-03 reads notes with.

    - ``labels``: the subjective labels.
    - ``customer``: words naming the customer, or a person the note is about ("customer",
      "she", "顾客", "她"): a label said of one of them labels the customer.
    - ``others``: other parties ("courier", "快递员"): a label said of them is not about the
      customer.
    - ``aspects``: a person's manner ("attitude", "态度"): a label of the aspect is a label
      of its owner.
    - ``links``: words that may stand between a person and a label ("is", "very", "not",
      "很", "不"); negation is a link, so "not difficult" still judges the person.
    - ``joins``: "and", "但是": after one, a label is said of the clause's subject.
    - ``copulas``: the links that are verbs ("is", "was", "是"): "Customer on the phone *was*
      difficult" says it of the customer, not of the phone.
    - ``sayings``: verbs that report the customer's words ("said", "表示"); a colon after a
      customer word does too.
    - ``marks``: the attributive particle ("的") between a label and the noun it describes.
    - ``grammar``: words that are neither a person nor a thing ("to", "yesterday"), so
      "difficult yesterday" is not read as "a difficult yesterday".
    - ``not_labels``: phrases that contain a label or a person word and are neither
      ("hard of hearing", "怕麻烦", "其他").
    """

    language: str
    labels: tuple[Label, ...]
    customer: frozenset[str]
    others: frozenset[str]
    aspects: frozenset[str]
    links: frozenset[str]
    joins: frozenset[str]
    sayings: frozenset[str]
    copulas: frozenset[str] = frozenset()
    marks: frozenset[str] = frozenset()
    grammar: frozenset[str] = frozenset()
    not_labels: frozenset[str] = frozenset()


def _each(text: str) -> list[str]:
    """The entries of ``text``, separated by spaces (one-word entries)."""
    return text.split()


def _words(text: str) -> frozenset[str]:
    return frozenset(_each(text))


# -- English ----------------------------------------------------------------------------------

_DEALING_WITH_THE_PERSON = frozenset(
    {
        "deal",
        "deal with",
        "please",
        "satisfy",
        "handle",
        "manage",
        "work with",
        "talk to",
        "talk with",
        "speak to",
        "speak with",
        "reason with",
        "get along",
        "get along with",
        "get on with",
        "put up with",
        "cope with",
        "calm",
        "placate",
        "communicate",
        "serve",
        "like",
        "trust",
        "believe",
        "be around",
    }
)
"""After "hard to …", verbs whose object is the person: "hard to deal with" labels them."""
_EVERYTHING = _words("everything anything all every each whatever nothing things stuff")

_HARD_TO_DO = Complement(
    frozenset({"to"}), "what was hard to do, a circumstance", unless=_DEALING_WITH_THE_PERSON
)
_PREFERENCE = Complement(
    frozenset({"about", "with", "over", "regarding", "concerning"}),
    "a preference about a thing",
    unless=_EVERYTHING,
)

ENGLISH = Vocabulary(
    language="en",
    labels=(
        *labels(
            *_each(
                "rude impolite disrespectful stubborn arrogant condescending unreasonable"
                " irrational aggressive hostile abusive obnoxious pushy stupid dumb idiotic"
                " ignorant lazy greedy stingy hysterical paranoid manipulative dishonest insane"
                " psycho troublemaker liar idiot moron jerk nutcase lunatic freeloader complainer"
                " whiner"
            )
        ),
        *labels("time waster", "drama queen", "pain in the neck", "high maintenance"),
        *labels("know it all"),
        *labels("entitled", facts=(Complement(frozenset({"to"}), "a right to something"),)),
        *labels("difficult", "hard", "tough", "impossible", said_of=ANYTHING, facts=(_HARD_TO_DO,)),
        *labels("picky", "fussy", "choosy", said_of=ANYTHING, facts=(_PREFERENCE,)),
        *labels(
            "demanding",
            said_of=ANYTHING,
            facts=(
                Complement(
                    _words("a an the his her their my our to that more"), "what was demanded"
                ),
            ),
        ),
        *labels(
            *_each("annoying crazy nasty weird strange awful horrible terrible nightmare cheap"),
            said_of=ANYTHING,
        ),
        *labels("bad", "poor", said_of=ANYTHING, needs_aspect=True),
    ),
    customer=_words(
        "customer client cust cx he she they him her them buyer shopper caller member guest"
        " visitor consumer patron person guy man woman lady gentleman gent people eater"
    ),
    others=frozenset(
        {
            *_each(
                "courier driver rider agent staff employee colleague cashier clerk technician"
                " installer engineer merchant seller vendor store shop branch manager supervisor"
                " carrier warehouse assistant team company i me we us"
            ),
            "staff member",
            "team member",
            "delivery man",
            "delivery guy",
            "delivery person",
            "delivery driver",
            "customer service",
            "customer care",
            "customer support",
        }
    ),
    aspects=_words(
        "attitude behaviour behavior tone manner manners personality character temper language"
        " demeanour demeanor conduct voice"
    ),
    links=frozenset(
        {
            *_each(
                "is was are were be been being am seems seemed seem appears appeared looks looked"
                " sounds sounded got gets getting became becomes become turned went acted acting"
                " behaved remained stayed grew has have had very so really extremely quite rather"
                " pretty too super a an the this that bit little somewhat incredibly truly just"
                " overly always often sometimes also still totally completely absolutely genuinely"
                " particularly especially increasingly not never no isn't wasn't aren't weren't"
                " hasn't haven't hadn't honestly frankly clearly obviously such most more less"
                " kind sort of"
            ),
            "at all",
        }
    ),
    joins=_words("and but then yet plus while"),
    copulas=_words(
        "is was are were be been being am seems seemed seem appears appeared looks looked sounds"
        " sounded got gets getting became becomes become turned went acted acting behaved"
        " remained stayed grew isn't wasn't aren't weren't"
    ),
    sayings=_words(
        "said says say stated states claimed claims wrote writes told tells complained complains"
        " mentioned reported reports explained insisted thinks thought feels felt believes"
    ),
    grammar=_words(
        "to for with about at on in into by from as than when if because since after before"
        " during over under until again today yesterday tonight now here there these those it"
        " its throughout overall every each though although even ever once twice either"
    ),
    not_labels=frozenset({"hard of hearing"}),
)

# -- Chinese ----------------------------------------------------------------------------------

_EVERYTHING_ZH = frozenset({"什么", "一切", "所有", "任何", "啥", "每", "各种", "样样", "事事"})

CHINESE = Vocabulary(
    language="zh",
    labels=(
        *labels(
            *_each(
                "难缠 刁蛮 事儿多 事多 无理取闹 胡搅蛮缠 蛮横 蛮不讲理 不讲理 不可理喻 难伺候"
                " 难对付 难打交道 难沟通 难以沟通 难说话 奇葩 刁民 泼妇 杠精 戏精 神经病 矫情 抠门"
                " 事儿妈 找茬 找茬儿 找事 找麻烦 刁难 暴躁 粗鲁 无礼 没礼貌 不礼貌 没素质"
                " 没有素质 没教养 傲慢 贪心 贪婪 爱占便宜 贪小便宜 凶 撒谎 说谎 无赖 老赖 变态"
                " 疯子 蠢 弱智 白痴 脑残"
            )
        ),
        *labels(
            "麻烦",
            said_of=ANYTHING,
            facts=(Complement(frozenset(), "a polite request: 麻烦 + what is asked"),),
        ),
        *labels("难搞", "烦人", "恶劣", "奇怪", said_of=ANYTHING),
        *labels(
            "挑剔",
            said_of=ANYTHING,
            facts=(
                Complement(
                    frozenset({"对"}), "a preference about a thing", _EVERYTHING_ZH, before=True
                ),
            ),
        ),
        *labels("差", "低", "不好", "不高", "大", "冲", "坏", said_of=ANYTHING, needs_aspect=True),
    ),
    customer=_words(
        "顾客 客户 客人 买家 用户 会员 消费者 来电人 访客 他 她 他们 她们 人 此人 这人 对方"
        " 本人 先生 女士 阿姨 大爷 大妈 大姐 大哥 老人 老太太 小伙子"
    ),
    others=_words(
        "快递员 快递小哥 快递公司 快递 骑手 外卖员 配送员 送货员 司机 师傅 店员 导购 收银员"
        " 售货员 客服 坐席 商家 卖家 店家 门店 店长 经理 主管 工作人员 员工 同事 保安 物流"
        " 平台 我 我们"
    ),
    aspects=_words("态度 脾气 性格 语气 口气 人品 素质 说话 言语 性子 为人 教养"),
    links=_words(
        "很 非常 太 特别 有点 有点儿 有些 比较 十分 极其 极 相当 真 真的 真是 好 挺 超 超级"
        " 巨 蛮 是 就是 都 更 最 不 并不 不是 没 没有 一个 个 位 名 了 实在 确实 简直 过于"
        " 太过 一直 总是 老是 还是 这个 那个 这位 那位 该 此 这 那 属于 算是 显得 变得 感觉"
        " 似乎 好像 有 得 啊 呀 吧 呢 也 就"
    ),
    joins=_words("和 跟 并且 而且 还 又 并 但 但是 然后 同时 且"),
    copulas=_words("是 就是 不是 显得 变得 算是"),
    sayings=_words("说 说道 表示 称 声称 反映 抱怨 投诉 原话 提到 讲 认为 觉得"),
    marks=frozenset({"的"}),
    not_labels=_words(
        "其他 吉他 人工 说明 小说 说服 名称 称呼 称重 对称 讲究 添麻烦 怕麻烦 嫌麻烦 事多次"
    ),
)
"""Chinese is matched on characters (no spaces to split on): "难缠" is a label wherever it
stands; "难" alone is not, so "难以联系" / "联系不上" are facts."""
