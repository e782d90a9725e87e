"""`kehu demo` records sales and scores them, so the card shows value at once."""

import pytest

from kehu.demo import demo_load
from kehu.insights.models import CustomerValue, ValueRefresh
from kehu.sales.models import Transaction


@pytest.mark.django_db
def test_demo_has_transactions_and_one_refresh(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(customers=80, seed=3)
    buyers = Transaction.objects.values("customer").distinct().count()
    assert buyers == 80 and Transaction.objects.filter(kind="refund").exists()
    refresh = ValueRefresh.objects.get()
    assert refresh.customers == CustomerValue.objects.count() == 80
    assert refresh.parameters.get("gamma_gamma"), refresh.note
    assert CustomerValue.objects.exclude(clv=None).count() > 40
    assert CustomerValue.objects.filter(churn_risk=True).exists()
    assert set(CustomerValue.objects.values_list("tier", flat=True)) >= {
        "most_profitable",
        "second_tier",
        "loss_making",
    }
    demo_load(customers=80, seed=3)  # again: nothing doubled
    assert ValueRefresh.objects.count() == 1
