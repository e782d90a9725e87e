from kehu.customers import selectors, services


def test_create_and_find_by_chinese_substring_and_phone(agent):
    customer = services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["138 0013 8000"]
    )
    for query in ("伟明", "张", "张伟明", "+86 138-0013-8000", "0086 13800138000", customer.number):
        hits = selectors.customer_search(query=query).hits
        assert [h.customer.pk for h in hits][:1] == [customer.pk], query
    assert selectors.customer_search(query="明张").hits == []
