"""The Simplified Chinese catalogue is complete, well-formed and covers every string in the code.

kehu ships in Chinese by default (LANGUAGE_CODE zh-hans), so an English string left
untranslated is a visible bug. These tests guard the catalogue itself (no empty or
fuzzy entries, placeholders kept, product vocabulary consistent) and, when GNU gettext
is installed, regenerate the catalogue from a copy of the code to prove that nothing
marked for translation has been left out.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "kehu"
LOCALE_DIR = PACKAGE_DIR / "locale"
PO_PATH = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Python %-format conversions: %(name)s, %d, %s, %5.2f, and the literal %%.
PY_FORMAT = re.compile(r"%(?:\([^)]+\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
NAMED = re.compile(r"%\(([^)]+)\)")

# The product vocabulary (see /work/shared/domain.md): one Chinese term per concept.
GLOSSARY = {
    "Customers": "客户",
    "Individual": "个人客户",
    "Organisation": "集团客户",
    "Prospect": "潜在客户",
    "Active": "活跃",
    "Lost": "已流失",
    "Contacts": "联系人",
    "account manager": "客户经理",
    "Account manager": "客户经理",
    "Key-account manager": "大客户经理",
    "Agent": "客服",
    "Supervisor": "主管",
    "Analyst": "分析师",
    "Administrator": "管理员",
    "the usual": "常购",
    "The usual": "常购",
    "preferences": "偏好",
    "Preferences": "偏好",
    "needs": "需求",
    "Needs": "需求",
    "Merge": "合并",
    "Import": "导入",
    "Export": "导出",
    "Timeline": "往来记录",
    "communication style": "沟通风格",
    "role in purchase decisions": "采购决策角色",
    "reason lost": "流失原因",
    "Operational layer (uses the product)": "操作层（使用产品）",
    "Management layer": "管理层",
    "Decision layer": "决策层",
    "Eagle": "老鹰型",
    "Peacock": "孔雀型",
    "Dove": "鸽子型",
    "Owl": "猫头鹰型",
}


def _live(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def _untranslated(po: polib.POFile) -> list[str]:
    return [e.msgid for e in _live(po) if not e.translated() and "fuzzy" not in e.flags]


def _fuzzy(po: polib.POFile) -> list[str]:
    return [e.msgid for e in _live(po) if "fuzzy" in e.flags]


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def test_header_is_final(po):
    assert not po.metadata_is_fuzzy, "remove '#, fuzzy' from the catalogue header"
    assert po.metadata.get("Language") == "zh_Hans"
    assert po.metadata.get("Project-Id-Version", "").startswith("kehu")
    assert po.metadata.get("Content-Type") == "text/plain; charset=UTF-8"
    assert po.metadata.get("Plural-Forms") == "nplurals=1; plural=0;"


def test_every_entry_is_translated_and_not_fuzzy(po):
    assert _live(po), "the catalogue is empty"
    assert _untranslated(po) == []
    assert _fuzzy(po) == []
    for entry in _live(po):
        if entry.msgid_plural:
            assert all(s.strip() for s in entry.msgstr_plural.values()), entry.msgid
        else:
            assert entry.msgstr.strip(), entry.msgid


def test_placeholders_are_kept(po):
    problems = []
    for entry in _live(po):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        targets = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        expected_names = set().union(*(NAMED.findall(s) for s in sources))
        for target in targets:
            if set(NAMED.findall(target)) != expected_names:
                problems.append((entry.msgid, target))
            elif (
                "python-format" in entry.flags
                and not entry.msgid_plural
                and (Counter(PY_FORMAT.findall(entry.msgid)) != Counter(PY_FORMAT.findall(target)))
            ):
                problems.append((entry.msgid, target))
    assert problems == []


def test_catalogue_passes_msgfmt_check():
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (GNU gettext) is not installed")
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(PO_PATH)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_product_vocabulary_is_consistent(po):
    by_id = {e.msgid: e.msgstr for e in _live(po) if not e.msgctxt}
    wrong = {
        msgid: (by_id[msgid], chinese)
        for msgid, chinese in GLOSSARY.items()
        if msgid in by_id and by_id[msgid] != chinese
    }
    assert wrong == {}
    # One word per concept: no competing terms in the catalogue.
    for avoided in ("组织客户", "机构客户", "坐席", "座席", "客户代表"):
        assert [e.msgid for e in _live(po) if avoided in e.msgstr] == [], avoided


def test_compiled_catalogue_matches_the_po(po):
    """The .mo Django reads (built by `make setup`/compilemessages) says what the .po says."""
    if not MO_PATH.exists():
        pytest.skip("django.mo not compiled yet (make setup compiles it)")

    def key_and_text(entry: polib._BaseEntry) -> tuple[tuple, object]:
        if entry.msgid_plural:
            return (entry.msgctxt, entry.msgid, entry.msgid_plural), sorted(
                entry.msgstr_plural.items()
            )
        return (entry.msgctxt, entry.msgid, ""), entry.msgstr

    compiled = dict(key_and_text(e) for e in polib.mofile(str(MO_PATH)) if e.msgid)
    expected = dict(key_and_text(e) for e in _live(po) if e.translated())
    stale = {k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)}
    assert not stale, (
        f"django.mo is out of date ({len(stale)} messages differ); run "
        "`cd src/kehu && django-admin compilemessages --settings=kehu.config.settings -l zh_Hans`"
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) missing")
def test_every_string_in_the_code_is_translated(tmp_path):
    """makemessages over a copy of the package: the refreshed catalogue has no gaps.

    The copy keeps the real catalogue untouched: a settings module in tmp_path points
    LOCALE_PATHS at the copy's locale directory, and the real file is compared afterwards.
    """
    before = PO_PATH.read_bytes()
    copy = tmp_path / "src" / "kehu"
    shutil.copytree(
        PACKAGE_DIR,
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "vendor", "node_modules"),
    )
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "kehu_i18n_check_settings.py").write_text(
        "from kehu.config.settings import *  # noqa: F401,F403\n"
        f"LOCALE_PATHS = [{str(copy / 'locale')!r}]\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(settings_dir), str(PACKAGE_DIR.parent), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["DJANGO_SETTINGS_MODULE"] = "kehu_i18n_check_settings"
    env["KEHU_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert PO_PATH.read_bytes() == before, "makemessages touched the real catalogue"

    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert _live(fresh), "makemessages produced an empty catalogue"
    missing = sorted(set(_untranslated(fresh)) | set(_fuzzy(fresh)))
    assert missing == [], (
        "strings in the code without a Chinese translation (run makemessages and "
        f"translate them in {PO_PATH.relative_to(PACKAGE_DIR.parent.parent)}): {missing}"
    )
