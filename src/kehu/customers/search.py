"""Search tokens: substring search over Chinese text with an ordinary full-text index.

Chinese is written without spaces, so a word index alone cannot find "伟明" inside
"张伟明". Each run of CJK characters is written as its overlapping bigrams (then its
single characters), and a query of n>=2 characters becomes the phrase of its n-1
bigrams: consecutive bigrams match exactly where the query is a substring. A one-
character query matches the single characters. Latin words and digits stay words and
are matched by prefix. SQLite's FTS5 and PostgreSQL's full-text search both index
these tokens, so both engines answer the same queries the same way.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# CJK Unified Ideographs (+ extension A, compatibility) and kana/hangul: scripts
# written without spaces. Everything else alphanumeric is a word.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
# A phrase (consecutive bigrams) never spans two fields, with no token between them:
# each field's CJK run ends with its single characters, and a phrase has none.


def _runs(text: str) -> Iterable[tuple[str, str]]:
    # NFKC folds the full-width letters and digits of Chinese input methods (ＡＢＣ１２３)
    # and compatibility forms (①, ²) into plain ones, the same on every engine.
    for match in _RUN.finditer(unicodedata.normalize("NFKC", text).lower()):
        cjk, word = match.groups()
        if cjk:
            yield "cjk", cjk
        else:
            yield "word", word


def search_document(texts: Iterable[str]) -> str:
    return " ".join([tokens for text in texts if text and (tokens := field_tokens(text))])


# What plain ASCII text ("CRM00000001", "wang.li@163.com", "8613800138000") is made of:
# NFKC leaves it as it is, and it has no CJK, so its runs are its letters and digits.
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def field_tokens(text: str) -> str:
    """search_document([text]) for a text that is not empty."""
    if text.isascii():
        if text.isalnum():  # one word: a customer number, an id, a phone's digits
            return text.lower()
        return " ".join(_ASCII_WORD.findall(text.lower()))
    return _cjk_text_tokens(text)


@lru_cache(maxsize=65536)  # names repeat: 张伟, 王芳 … thousands of times in a large import
def _cjk_text_tokens(text: str) -> str:
    tokens: list[str] = []
    for kind, run in _runs(text):
        if kind == "word":
            tokens.append(run)
            continue
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        tokens.extend(run)
    return " ".join(tokens)


def search_terms(query: str) -> list[tuple[str, list[str]]]:
    """The query as ANDed terms: ("phrase", bigrams), ("char", [c]) or ("prefix", [word])."""
    terms: list[tuple[str, list[str]]] = []
    for kind, run in _runs(query[:200]):
        if kind == "word":
            terms.append(("prefix", [run]))
        elif len(run) == 1:
            terms.append(("char", [run]))
        else:
            terms.append(("phrase", [run[i : i + 2] for i in range(len(run) - 1)]))
    return terms[:10]


def fts5_query(terms: list[tuple[str, list[str]]]) -> str:
    parts = []
    for kind, tokens in terms:
        if kind == "prefix":
            parts.append(f'"{tokens[0]}"*')
        else:
            parts.append('"' + " ".join(tokens) + '"')
    return " AND ".join(parts)


def tsquery(terms: list[tuple[str, list[str]]]) -> str:
    parts = []
    for kind, tokens in terms:
        if kind == "prefix":
            parts.append(f"'{tokens[0]}':*")
        else:
            parts.append("(" + " <-> ".join(f"'{t}'" for t in tokens) + ")")
    return " & ".join(parts)
