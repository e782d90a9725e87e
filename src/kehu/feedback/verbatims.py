"""Sorting what customers write into likes, dislikes, complaints and suggestions (seed 003:
what they like, dislike, commonly complain about, and suggest).

Keyword rules, not a model: a comment belongs to every group one of whose keywords it
contains (case-insensitive substring match, which suits Chinese without a tokenizer; of
overlapping keywords the longest counts);
a comment matching none is "other". The first matching group in CLASS_ORDER is its main
group. Override the lists with the KEHU_FEEDBACK_KEYWORDS setting, a dict of the same
shape (group → list of keywords); groups left out keep these defaults.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

CLASS_ORDER = ("suggestion", "complaint", "dislike", "like")
LABELS = {
    "like": _("Likes"),
    "dislike": _("Dislikes"),
    "complaint": _("Complaints"),
    "suggestion": _("Suggestions"),
    "other": _("Other"),
}
DEFAULT_KEYWORDS = {
    # Checked first: "it would be better if…" is a suggestion even when it names a fault.
    "suggestion": [
        "建议",
        "希望",
        "最好",
        "能否",
        "能不能",
        "可以考虑",
        "应该",
        "如果能",
        "suggest",
        "would be nice",
        "would be better",
        "should",
        "could you",
        "please add",
        "recommend that",
        "wish",
    ],
    "complaint": [
        "投诉",
        "太差",
        "差劲",
        "欺骗",
        "骗",
        "退款",
        "赔偿",
        "不负责",
        "态度恶劣",
        "没人管",
        "再也不",
        "complain",
        "complaint",
        "refund",
        "unacceptable",
        "rude",
        "terrible",
        "worst",
        "never again",
        "scam",
    ],
    "dislike": [
        "不满意",
        "不喜欢",
        "太慢",
        "慢",
        "贵",
        "麻烦",
        "失望",
        "等了",
        "不方便",
        "不好",
        "dislike",
        "slow",
        "expensive",
        "disappointed",
        "waited",
        "difficult",
        "hard to",
        "not good",
        "bad",
    ],
    "like": [
        "满意",
        "喜欢",
        "感谢",
        "谢谢",
        "好",
        "快",
        "热情",
        "专业",
        "耐心",
        "方便",
        "赞",
        "like",
        "love",
        "great",
        "thank",
        "excellent",
        "helpful",
        "friendly",
        "fast",
        "quick",
        "professional",
        "good",
    ],
}


def keywords() -> dict[str, list[str]]:
    configured = getattr(settings, "KEHU_FEEDBACK_KEYWORDS", None) or {}
    return {
        group: [k.lower() for k in configured.get(group, DEFAULT_KEYWORDS[group])]
        for group in CLASS_ORDER
    }


def verbatim_classes(text: str, rules: dict[str, list[str]] | None = None) -> list[str]:
    """Every group the text belongs to, main group first; ["other"] when none.

    Where keywords overlap the longest one counts, so that 不满意 is a dislike and not
    also a like for the 满意 inside it (and "dislike", "not good" likewise)."""
    rules = rules or keywords()
    lowered = text.lower()
    matches = sorted(
        (
            (start, start + len(keyword), group)
            for group in CLASS_ORDER
            for keyword in rules[group]
            if keyword
            for start in _starts(lowered, keyword)
        ),
        key=lambda match: match[0] - match[1],
    )
    taken: list[tuple[int, int]] = []
    groups = set()
    for start, end, group in matches:
        if all(end <= a or start >= b for a, b in taken):
            taken.append((start, end))
            groups.add(group)
    return [group for group in CLASS_ORDER if group in groups] or ["other"]


def _starts(text: str, keyword: str):
    start = text.find(keyword)
    while start != -1:
        yield start
        start = text.find(keyword, start + 1)
