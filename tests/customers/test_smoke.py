from kehu.customers import selectors, services


def test_create_and_find_by_chinese_substring_and_phone(agent):
    customer = services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["138 0013 8000"]
    )
    for query in ("伟明", "张", "张伟明", "+86 138-0013-8000", "0086 13800138000", customer.number):
        hits = selectors.customer_search(query=query).hits
        assert [h.customer.pk for h in hits][:1] == [customer.pk], query
    assert selectors.customer_search(query="明张").hits == []


def test_list_filters_by_portfolio_status_and_kind(client, manager):
    from django.test import Client

    from kehu.customers.choices import CustomerStatus

    mine = services.customer_create(actor=manager, kind="organisation", name="华北电信有限公司",
                                    owner=manager)
    other = services.customer_create(actor=manager, kind="individual", name="李娜",
                                     status=CustomerStatus.LOST, lost_reason="price")
    web = Client()
    web.force_login(manager)
    assert [h.customer for h in web.get("/?mine=1").context["result"].hits] == [mine]
    assert [h.customer for h in web.get("/?status=lost").context["result"].hits] == [other]
    assert [h.customer for h in web.get("/?kind=organisation").context["result"].hits] == [mine]
    assert len(web.get("/?status=bogus").context["result"].hits) == 2


def test_full_width_input_finds_plain_text(agent):
    customer = services.customer_create(actor=agent, kind="organisation", name="ABC科技 123 店")
    for query in ("ＡＢＣ", "abc科技", "１２３"):
        assert [h.customer for h in selectors.customer_search(query=query).hits] == [customer]
