from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kehu.customers import selectors, services
from kehu.customers.choices import STYLE_GUIDANCE, CustomerKind, CustomerStatus
from kehu.customers.forms import (
    ContactForm,
    CustomerForm,
    MergeForm,
    NoteForm,
    apply_service_errors,
)
from kehu.customers.models import Contact, Customer
from kehu.customers.phones import phone_parse_or_none
from kehu.feedback import selectors as feedback_selectors
from kehu.insights import selectors as insights_selectors
from kehu.loyalty import selectors as loyalty_selectors
from kehu.promises import selectors as promise_selectors
from kehu.promises.forms import CommitmentForm
from kehu.sales import selectors as sales_selectors
from kehu.service import selectors as service_selectors
from kehu.users.permissions import require
from kehu.users.roles import Capability


def _without_page(params) -> str:
    params = params.copy()
    params.pop("page", None)
    return params.urlencode()


@require(Capability.CUSTOMER_VIEW)
def customer_list(request):
    query = request.GET.get("q", "")
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    filters = {
        "owner_id": request.user.pk if request.GET.get("mine") else None,
        "status": request.GET.get("status", "") if request.GET.get("status") in CustomerStatus
        else "",
        "kind": request.GET.get("kind", "") if request.GET.get("kind") in CustomerKind else "",
    }
    if query or not any(filters.values()):
        result = selectors.customer_search(query=query, page=page)
    else:
        result = selectors.customer_browse(page=page, **filters)
    context = {"query": query, "result": result, "filters": filters,
               "statuses": CustomerStatus.choices, "kinds": CustomerKind.choices,
               "base_query": _without_page(request.GET)}
    if request.headers.get("HX-Request"):
        return render(request, "customers/partials/results.html", context)
    return render(request, "customers/list.html", context)


def _possible_duplicates(form: CustomerForm, exclude: int | None = None):
    e164s = [p.e164 for line in form.service_kwargs()["phones"]
             if (p := phone_parse_or_none(line))]
    emails = form.service_kwargs()["emails"]
    return list(selectors.customer_duplicates(e164s=e164s, emails=emails, exclude=exclude)[:10])


@require(Capability.CUSTOMER_EDIT)
def customer_create(request):
    # The call panel's "new customer" button arrives with the caller's number.
    form = CustomerForm(request.POST or None, initial={"phones": request.GET.get("phone", "")})
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _possible_duplicates(form)
        if not duplicates or request.POST.get("confirm_duplicate"):
            try:
                customer = services.customer_create(actor=request.user, **form.service_kwargs())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Customer %(number)s created.") % {
                    "number": customer.number})
                return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/form.html", {
        "form": form, "duplicates": duplicates, "title": _("New customer"),
    })


@require(Capability.CUSTOMER_VIEW)
def customer_card(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if customer.merged_into_id:
        messages.info(request, _("%(number)s was merged into this customer.") % {
            "number": customer.number})
        return redirect("customers:card", pk=customer.merged_into_id)
    customer = selectors.customer_card(pk=pk)
    return render(request, "customers/card.html", {
        "customer": customer,
        "timeline": selectors.customer_timeline(customer=customer),
        "duplicates": list(selectors.customer_duplicates_of(customer=customer)[:5]),
        "note_form": NoteForm(),
        "style_guidance": STYLE_GUIDANCE,
        "open_cases": service_selectors.customer_open_cases(customer=customer),
        "commitments": promise_selectors.customer_commitments(customer=customer),
        "broken_commitments": promise_selectors.customer_broken_commitments(customer=customer),
        "follow_ups": promise_selectors.customer_follow_ups(customer=customer),
        "commitment_form": CommitmentForm(),
        "latest_scores": feedback_selectors.customer_latest_scores(customer=customer),
        "purchases": sales_selectors.customer_recent_purchases(customer=customer),
        "loyalty_member": loyalty_selectors.customer_member(customer=customer),
        "value": insights_selectors.customer_value(customer=customer),
    })


@require(Capability.CUSTOMER_EDIT)
def customer_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk, merged_into=None)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(actor=request.user, customer=customer,
                                     **form.service_kwargs())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/form.html", {
        "form": form, "customer": customer, "title": _("Edit %(name)s") % {"name": customer.name},
    })


@require(Capability.CUSTOMER_VIEW)
def customer_history(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    changes = selectors.customer_history(customer=customer)
    for change in changes:
        change.rows = _change_rows(change.fields)
    return render(request, "customers/history.html", {"customer": customer, "changes": changes})


# Change records keep field names and stored values; people read labels.
_HISTORY_LABELS = {
    "phones": _lazy("Phone numbers"), "emails": _lazy("Emails"),
    "addresses": _lazy("Addresses"), "tags": _lazy("Tags"), "contact": _lazy("Contact"),
    "merged": _lazy("Merged customer"), "into": _lazy("Merged into"),
    "file": _lazy("File"), "row": _lazy("Row"),
}


def _history_label(field: str) -> str:
    if field in _HISTORY_LABELS:
        return str(_HISTORY_LABELS[field])
    for model in (Customer, Contact):
        try:
            return str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            continue
    return field


def _history_text(field: str, value) -> str:
    if isinstance(value, list):
        return "; ".join(_history_text(field, v) for v in value)
    if value is None:
        return ""
    for model in (Customer, Contact):
        try:
            choices = dict(model._meta.get_field(field).choices or ())
        except FieldDoesNotExist:
            continue
        return str(choices.get(value, value))
    return str(value)


def _change_rows(fields: dict) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, is_edit): edits are [before, after] pairs; other details
    (a merged number, a contact's name) are plain values, however long."""
    return [
        (_history_label(field), _history_text(field, value[0]), _history_text(field, value[1]),
         True)
        if isinstance(value, list) and len(value) == 2
        else (_history_label(field), _history_text(field, value), "", False)
        for field, value in fields.items()
    ]


@require_POST
@require(Capability.CUSTOMER_EDIT)
def note_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk, merged_into=None)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            form = NoteForm()
    context = {"customer": customer, "note_form": form,
               "timeline": selectors.customer_timeline(customer=customer)}
    if request.headers.get("HX-Request"):
        return render(request, "customers/partials/timeline.html", context)
    return redirect("customers:card", pk=pk)


@require(Capability.CUSTOMER_EDIT)
def contact_edit(request, pk: int, contact_pk: int | None = None):
    organisation = get_object_or_404(Customer, pk=pk, merged_into=None)
    contact = (
        get_object_or_404(Contact, pk=contact_pk, organisation=organisation)
        if contact_pk else None
    )
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            if contact:
                services.contact_update(actor=request.user, contact=contact,
                                        **form.service_kwargs())
            else:
                services.contact_create(actor=request.user, organisation=organisation,
                                        **form.service_kwargs())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("customers:card", pk=pk)
    return render(request, "customers/contact_form.html", {
        "form": form, "customer": organisation, "contact": contact,
        "style_guidance": STYLE_GUIDANCE,
    })


@require(Capability.CUSTOMER_MERGE)
def customer_merge(request, pk: int):
    survivor = get_object_or_404(Customer, pk=pk, merged_into=None)
    form = MergeForm(request.POST or None, initial={"duplicate": request.GET.get("duplicate", "")})
    duplicate = None
    number = (form.data.get("duplicate") or form.initial.get("duplicate") or "").strip().upper()
    if number:
        duplicate = Customer.objects.filter(number=number).first()
    if request.method == "POST" and form.is_valid():
        if duplicate is None:
            form.add_error("duplicate", _("No customer has this number."))
        elif request.POST.get("confirm"):
            try:
                services.customer_merge(actor=request.user, survivor=survivor,
                                        duplicate=duplicate)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("%(number)s merged into this customer.") % {
                    "number": duplicate.number})
                return redirect("customers:card", pk=survivor.pk)
    return render(request, "customers/merge.html", {
        "form": form, "customer": survivor, "duplicate": duplicate,
        "candidates": selectors.customer_duplicates_of(customer=survivor)[:10],
        "merge_url": reverse("customers:merge", args=[survivor.pk]),
    })
