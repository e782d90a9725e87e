"""The one search box: Chinese substrings, organisations and contacts, phones, emails, numbers."""

import pytest

from kehu.customers import services
from kehu.customers.selectors import customer_search
from kehu.customers.transfer import import_file


def found(query: str, **kwargs) -> list[tuple[int, int | None]]:
    return [
        (hit.customer.pk, hit.contact.pk if hit.contact else None)
        for hit in customer_search(query=query, **kwargs).hits
    ]


def customers_found(query: str) -> set[int]:
    return {pk for pk, _contact in found(query)}


@pytest.fixture
def zhang(agent):
    return services.customer_create(
        actor=agent,
        kind="individual",
        name="张伟明",
        phones=["138 0013 8000"],
        emails=["zhang.weiming@example.com"],
    )


@pytest.fixture
def haier(agent):
    org = services.customer_create(
        actor=agent,
        kind="organisation",
        name="青岛海尔集团有限公司",
        phones=["(0532) 8893 9999"],
        emails=["service@haier.example"],
    )
    wang = services.contact_create(
        actor=agent,
        organisation=org,
        name="王建国",
        decision_role="decision",
        phones=["139 0013 9000"],
        emails=["wang.jianguo@haier.example"],
    )
    li = services.contact_create(actor=agent, organisation=org, name="李娜", title="采购经理")
    return org, wang, li


@pytest.fixture
def others(agent):
    """People whose names share characters with 张伟明 without containing the query."""
    return [
        services.customer_create(actor=agent, kind="individual", name=name)
        for name in ("明张", "张明伟", "伟大", "赵伟", "李明")
    ]


@pytest.mark.parametrize("query", ["张", "伟", "明", "张伟", "伟明", "张伟明"])
def test_chinese_substring_of_any_length_finds_the_name(zhang, query):
    assert zhang.pk in customers_found(query)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("伟明", {"张伟明"}),
        ("张伟", {"张伟明"}),
        ("明张", {"明张"}),
        ("明伟", {"张明伟"}),
        ("张伟明", {"张伟明"}),
        ("伟", {"张伟明", "张明伟", "伟大", "赵伟"}),
    ],
)
def test_chinese_substring_finds_exactly_the_names_containing_it(zhang, others, query, expected):
    names = {hit.customer.name for hit in customer_search(query=query).hits}
    assert names == expected


def test_no_false_positives_from_reordered_or_absent_characters(zhang):
    for query in ("明张", "伟张", "张明", "王伟明", "张伟明华", "刘"):
        assert zhang.pk not in customers_found(query), query


def test_substring_in_the_middle_of_a_long_organisation_name(haier):
    org, _wang, _li = haier
    for query in ("海尔", "海尔集团", "集团有限", "尔集团有限公"):
        assert org.pk in customers_found(query), query
    assert org.pk not in customers_found("海尔有限")


def test_organisation_name_finds_the_organisation_and_each_contact(haier):
    org, wang, li = haier
    hits = set(found("海尔"))
    assert {(org.pk, None), (org.pk, wang.pk), (org.pk, li.pk)} <= hits


def test_contact_name_finds_the_contact_at_its_organisation(haier):
    org, wang, li = haier
    assert found("王建国") == [(org.pk, wang.pk)]
    assert found("建国") == [(org.pk, wang.pk)]
    assert found("李娜") == [(org.pk, li.pk)]


def test_contact_and_organisation_words_together(haier):
    org, wang, _li = haier
    assert found("海尔 王建国") == [(org.pk, wang.pk)]


@pytest.mark.parametrize(
    "query",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138-0013-8000",
        "0086 13800138000",
        "+8613800138000",
        "138.0013.8000",
    ],
)
def test_phone_in_any_written_form_finds_the_customer(zhang, query):
    hits = customer_search(query=query).hits
    assert [(h.customer.pk, h.matched_by) for h in hits] == [(zhang.pk, "phone")]


def test_phone_with_extension_finds_the_customer(agent):
    office = services.customer_create(
        actor=agent, kind="organisation", name="北京办公室", phones=["(010) 6552-9988 ext. 12"]
    )
    assert customers_found("010 6552 9988") == {office.pk}
    assert customers_found("+86 10 6552 9988 ext. 12") == {office.pk}


def test_contact_phone_finds_the_contact(haier):
    org, wang, _li = haier
    hits = customer_search(query="+86 139 0013 9000").hits
    assert [(h.customer.pk, h.contact.pk, h.matched_by) for h in hits] == [
        (org.pk, wang.pk, "phone")
    ]


def test_email_finds_customer_and_contact_whatever_the_case(zhang, haier):
    org, wang, _li = haier
    assert found("Zhang.Weiming@Example.com")[0] == (zhang.pk, None)
    assert found("wang.jianguo@haier.example")[0] == (org.pk, wang.pk)
    assert customer_search(query="service@haier.example").hits[0].matched_by == "email"


def test_customer_number_finds_the_customer(zhang, others):
    assert found(zhang.number)[0] == (zhang.pk, None)
    assert found(zhang.number.lower())[0] == (zhang.pk, None)
    assert customer_search(query=zhang.number).hits[0].matched_by == "number"


def test_external_id_finds_the_customer(agent):
    customer = services.customer_create(
        actor=agent, kind="individual", name="钱多多", external_id="ERP-778899"
    )
    assert customers_found("ERP-778899") == {customer.pk}


def test_latin_names_match_by_word_prefix(agent):
    customer = services.customer_create(actor=agent, kind="organisation", name="Acme Trading Ltd")
    assert customer.pk in customers_found("acme")
    assert customer.pk in customers_found("Trad")
    assert customer.pk not in customers_found("cme")


def test_merged_customer_is_not_listed_and_its_old_number_finds_the_survivor(agent, supervisor):
    survivor = services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["13800138000"]
    )
    duplicate = services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["13900139000"]
    )
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)

    assert customers_found("张伟明") == {survivor.pk}
    assert [h.customer.pk for h in customer_search(query="").hits] == [survivor.pk]
    assert customers_found(duplicate.number) == {survivor.pk}
    assert customers_found("13900139000") == {survivor.pk}


def test_contacts_of_a_merged_organisation_lead_to_the_survivor(agent, supervisor, haier):
    org, wang, _li = haier
    survivor = services.customer_create(actor=agent, kind="organisation", name="海尔集团")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=org)
    assert found("王建国") == [(survivor.pk, wang.pk)]
    assert found("139 0013 9000") == [(survivor.pk, wang.pk)]


def test_search_sees_updates_and_imports(agent, zhang):
    services.customer_update(actor=agent, customer=zhang, name="张卫民")
    assert zhang.pk not in customers_found("伟明")
    assert zhang.pk in customers_found("卫民")
    import_file(name="in.csv", data="名称,电话\n欧阳娜娜,139 1111 2222\n".encode())
    assert [h.customer.name for h in customer_search(query="阳娜").hits] == ["欧阳娜娜"]
    assert [h.customer.name for h in customer_search(query="13911112222").hits] == ["欧阳娜娜"]


def test_paging_through_many_matches(agent):
    created = {
        services.customer_create(actor=agent, kind="individual", name=f"测试客户{i}").pk
        for i in range(30)
    }
    first = customer_search(query="测试", page=1, page_size=25)
    second = customer_search(query="测试", page=2, page_size=25)
    assert (len(first.hits), first.has_next, first.page) == (25, True, 1)
    assert (len(second.hits), second.has_next, second.page) == (5, False, 2)
    pages = [h.customer.pk for h in first.hits + second.hits]
    assert len(set(pages)) == 30 and set(pages) == created
    assert customer_search(query="测试", page=3, page_size=25).hits == []


def test_paging_the_full_list(agent):
    for i in range(7):
        services.customer_create(actor=agent, kind="individual", name=f"客户{i}")
    first = customer_search(query="", page=1, page_size=5)
    second = customer_search(query="", page=2, page_size=5)
    assert (len(first.hits), first.has_next) == (5, True)
    assert (len(second.hits), second.has_next) == (2, False)
    assert not {h.customer.pk for h in first.hits} & {h.customer.pk for h in second.hits}


def test_exactly_one_page_has_no_next_page(agent):
    for i in range(5):
        services.customer_create(actor=agent, kind="individual", name=f"测试{i}")
    page = customer_search(query="测试", page=1, page_size=5)
    assert (len(page.hits), page.has_next) == (5, False)


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        "*",
        "AND",
        "OR NOT",
        "张 AND",
        "(",
        "NEAR(a b)",
        "^",
        ":",
        "-",
        "\\",
        "%",
        "_",
        "a" * 500,
        "张" * 300,
        "😀",
    ],
)
def test_odd_queries_answer_without_error(zhang, query):
    customer_search(query=query)


def test_page_below_one_is_page_one(zhang):
    assert customer_search(query="张伟明", page=0).page == 1
    assert customer_search(query="张伟明", page=-5).hits[0].customer.pk == zhang.pk


def test_search_document_is_the_same_on_its_fast_paths():
    """ASCII text skips NFKC and CJK text is memoised: the tokens must not change."""
    import random
    import unicodedata

    from kehu.customers.search import _RUN, search_document

    def reference(texts):
        tokens = []
        for text in texts:
            if not text:
                continue
            for match in _RUN.finditer(unicodedata.normalize("NFKC", text).lower()):
                cjk, word = match.groups()
                if cjk:
                    tokens.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
                    tokens.extend(cjk)
                else:
                    tokens.append(word)
        return " ".join(tokens)

    rng = random.Random(5)
    alphabet = [*"abcXYZ019_-.@ +", "\u3000", *"王李张伟芳有限公司ＡＢＣ１２３①²", "ß", "ﬁ", "İ",
                "Ⅻ", "\u0301", "é", "ǂ", "ｶ", "한"]
    texts = ["".join(rng.choices(alphabet, k=rng.randrange(12))) for _ in range(3000)]
    for _ in range(5000):
        group = [rng.choice(texts) for _ in range(rng.randrange(5))]
        assert search_document(group) == reference(group), group
        assert search_document(group) == search_document(group)  # memoised: the same


def test_a_contact_is_found_by_either_name_but_not_across_the_two(agent, haier):
    """A contact's entry holds its own name then its organisation's: 李青 followed by
    青岛… must not make 李青岛 (in no single name) a phrase of the entry."""
    org, _wang, _li = haier
    li_qing = services.contact_create(actor=agent, organisation=org, name="李青")
    assert (org.pk, li_qing.pk) in found("李青")
    assert (org.pk, li_qing.pk) in found("青岛海尔")
    assert found("李青岛") == []
    assert found("青青岛") == []
