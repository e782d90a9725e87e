"""The frequent-complainant flag, for staff pages that show a customer (never the customer's)."""

from django import template

from kehu.service import reports

register = template.Library()


@register.inclusion_tag("service/partials/complainant_flag.html")
def complainant_flag(customer):
    return {"flag": reports.complainant_flag(customer_id=customer.pk) if customer else None}
