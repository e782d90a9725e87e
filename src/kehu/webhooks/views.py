"""Administrators' pages for outbound webhooks: endpoints, secrets, the delivery log."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.customers.forms import apply_service_errors
from kehu.users.permissions import require
from kehu.users.roles import Capability
from kehu.webhooks import selectors, services
from kehu.webhooks.forms import EndpointForm
from kehu.webhooks.models import Delivery, Endpoint

DELIVERIES_PER_PAGE = 25


def _page(request) -> int:
    try:
        return max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        return 1


@require(Capability.WEBHOOK_MANAGE)
def endpoint_list(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Endpoint added. Give its signing secret to the receiver."),
            )
            return redirect("webhooks:endpoint", endpoint.pk)
    return render(
        request,
        "webhooks/endpoints.html",
        {"endpoints": selectors.endpoint_list(), "form": form},
    )


@require(Capability.WEBHOOK_MANAGE)
def endpoint_edit(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("webhooks:endpoint", endpoint.pk)
    page = _page(request)
    deliveries, has_next = selectors.delivery_log(
        endpoint=endpoint, page=page, page_size=DELIVERIES_PER_PAGE
    )
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "form": form,
            "deliveries": deliveries,
            "page": page,
            "has_next": has_next,
            "signature_header": services.SIGNATURE_HEADER,
        },
    )


@require(Capability.WEBHOOK_MANAGE)
@require_POST
def endpoint_rotate(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.endpoint_secret_rotate(endpoint=endpoint)
    messages.success(request, _("New signing secret made; the old one no longer signs anything."))
    return redirect("webhooks:endpoint", endpoint.pk)


@require(Capability.WEBHOOK_MANAGE)
@require_POST
def endpoint_test(request, pk: int):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.endpoint_test_send(endpoint=endpoint)
    messages.success(request, _("Test event queued; its delivery appears below."))
    return redirect("webhooks:endpoint", endpoint.pk)


@require(Capability.WEBHOOK_MANAGE)
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint", "case"), pk=pk)
    return render(
        request,
        "webhooks/delivery.html",
        {"delivery": delivery, "attempts": delivery.attempt_log.all()},
    )


@require(Capability.WEBHOOK_MANAGE)
@require_POST
def delivery_retry(request, pk: int):
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.delivery_retry_now(delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Delivery queued to be sent again now."))
    if request.POST.get("from") == "delivery":
        return redirect("webhooks:delivery", delivery.pk)
    return redirect("webhooks:endpoint", delivery.endpoint_id)
