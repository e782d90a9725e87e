"""Foreign keys that are empty on nearly every row are indexed only where set; the
lookups that follow them still use those indexes."""

import pytest
from django.db import connection

from kehu.customers import services
from kehu.customers.models import Customer, Email, Phone

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="PostgreSQL plans by its statistics: small tables are scanned"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(row[-1] for row in cursor.fetchall())


def test_lookups_by_a_sparse_foreign_key_use_its_partial_index():
    organisation = services.customer_create(actor=None, kind="organisation", name="华信集团")
    contact = services.contact_create(actor=None, organisation=organisation, name="王伟",
                                      phones=["13800138000"], emails=["wang@example.com"])
    assert "customers_phone_contact_set" in plan(Phone.objects.filter(contact=contact))
    assert "customers_email_contact_set" in plan(
        Email.objects.filter(contact__in=[contact.pk, contact.pk + 1]))
    assert "customers_merged_into_set" in plan(
        Customer.objects.filter(merged_into=organisation))

