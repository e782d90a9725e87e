import json
import time
from datetime import UTC, datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kehu.customers.choices import STYLE_GUIDANCE, ContactOutcome, ContactReason
from kehu.customers.models import Customer
from kehu.insights import selectors as insights_selectors
from kehu.loyalty import selectors as loyalty_selectors
from kehu.promises import selectors as promise_selectors
from kehu.service import selectors as service_selectors
from kehu.telephony import selectors, services
from kehu.telephony.models import (
    BlockedNumber,
    Call,
    CallAlert,
    CallState,
    CtiIntegration,
    Direction,
)
from kehu.users.permissions import require
from kehu.users.roles import Capability


def _posted_id(request, name: str) -> int:
    """A posted row id; anything but digits finds nothing (404) instead of failing."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


def _event_from_request(request) -> services.CtiEvent:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError(_("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ValidationError(_("The body must be a JSON object."))
        users = data.get("user") or []
        # One agent or a list of them; by username or extension, which may come as a number.
        users = users if isinstance(users, list) else [users]
        get = lambda key: str(data.get(key) or "")  # noqa: E731
    else:
        users = request.POST.getlist("user[]") or request.POST.getlist("user")
        get = lambda key: request.POST.get(key, "")  # noqa: E731
    occurred_at = None
    if get("timestamp"):
        try:
            occurred_at = datetime.fromtimestamp(float(get("timestamp")), tz=UTC)
        except (ValueError, OverflowError, OSError):  # OSError: beyond the platform's time_t
            raise ValidationError(_("timestamp must be seconds since 1970.")) from None
    return services.CtiEvent(
        event=get("event"), call_id=get("callId")[:200], from_number=get("from")[:64],
        to_number=get("to")[:64], direction=get("direction") or Direction.INBOUND,
        users=tuple(str(u)[:150] for u in users[:20]), queue=get("queue")[:100],
        cause=get("cause")[:50], answering_number=get("answeringNumber")[:64],
        occurred_at=occurred_at,
    )


@csrf_exempt
@login_not_required
@require_POST
def cti_webhook(request, token: str):
    """Zammad-compatible generic CTI endpoint: POST /cti/<token> with form or JSON fields.

    The answer's Server-Timing header tells how long the caller match ("match"), the
    wait for the database's write lock ("lock") and the whole event ("cti") took, in
    milliseconds.
    """
    started = time.perf_counter()
    integration = services.integration_authenticate(token=token)
    if integration is None:
        return JsonResponse({"error": "invalid token"}, status=401)
    timing: dict[str, float] = {}
    try:
        event = _event_from_request(request)
        answer = services.cti_event_record(integration=integration, event=event,
                                           timing=timing)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    response = JsonResponse(answer)
    timing["cti"] = time.perf_counter() - started
    response["Server-Timing"] = ", ".join(
        f"{name};dur={seconds * 1000:.2f}" for name, seconds in timing.items())
    return response


class CallLogForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=ContactOutcome.choices)
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ContactReason.choices)
    body = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _panel_context(alert: CallAlert, form: CallLogForm | None = None) -> dict:
    call = alert.call
    matches = selectors.caller_matches(e164=call.number_e164) if call.number_e164 else []
    customer = call.customer
    return {
        "alert": alert, "call": call, "matches": matches, "customer": customer,
        "contact": call.contact,
        "recent": selectors.customer_recent_contacts(customer=customer) if customer else [],
        "open_cases": (
            service_selectors.customer_open_cases(customer=customer) if customer else []
        ),
        "commitments": (
            promise_selectors.customer_commitments(customer=customer) if customer else []
        ),
        "broken_commitments": (
            promise_selectors.customer_broken_commitments(customer=customer) if customer else 0
        ),
        "loyalty_member": (
            loyalty_selectors.customer_member(customer=customer) if customer else None
        ),
        "value": insights_selectors.customer_value(customer=customer) if customer else None,
        "log_form": form or CallLogForm(),
        "style_guidance": STYLE_GUIDANCE,
    }


def _probe_key(alert: CallAlert | None) -> str:
    return f"{alert.pk}:{alert.call.state}" if alert else ""


@require(Capability.CALL_HANDLE)
def call_probe(request):
    """Polled by every agent page: 204 while nothing changed, else the new panel.

    The alert lives in the database, so the event may reach any server process
    and the agent's page, polling any other, still sees it.
    """
    alert = selectors.alert_current(user=request.user)
    key = _probe_key(alert)
    current = request.GET.get("current", "")
    if key == current:
        return HttpResponse(status=204)
    same_call = alert is not None and current.split(":")[0] == str(alert.pk)
    context = {"probe_key": key, "alert": alert, "head_only": same_call}
    if alert and not same_call:
        context |= _panel_context(alert)
    elif alert:
        context |= {"call": alert.call}
    return render(request, "telephony/partials/probe.html", context)


@require_POST
@require(Capability.CALL_HANDLE)
def alert_dismiss(request, alert_id: int):
    alert = get_object_or_404(CallAlert, pk=alert_id, user=request.user)
    services.call_alert_dismiss(alert=alert)
    return render(request, "telephony/partials/probe.html", {"probe_key": "", "alert": None})


@require_POST
@require(Capability.CALL_HANDLE)
def call_log_contact(request, call_pk: int):
    call = get_object_or_404(Call, pk=call_pk)
    form = CallLogForm(request.POST)
    if form.is_valid():
        try:
            note = services.call_contact_log(actor=request.user, call=call, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if request.headers.get("HX-Request"):
                return render(request, "telephony/partials/logged.html", {"note": note,
                                                                          "call": call})
            messages.success(request, _("Call logged."))
            return redirect("customers:card", pk=call.customer_id)
    return render(request, "telephony/partials/log_form.html",
                  {"call": call, "log_form": form}, status=422 if form.errors else 200)


@require_POST
@require(Capability.CALL_HANDLE)
def call_identify(request, call_pk: int):
    call = get_object_or_404(Call, pk=call_pk)
    alert = get_object_or_404(CallAlert, call=call, user=request.user)
    customer = get_object_or_404(Customer, pk=_posted_id(request, "customer"), merged_into=None)
    services.call_identify(call=call, customer=customer)
    return render(request, "telephony/partials/panel.html", _panel_context(alert))


@require_POST
@require(Capability.CALL_HANDLE)
def call_rematch(request, call_pk: int):
    alert = get_object_or_404(CallAlert.objects.select_related("call"), call_id=call_pk,
                              user=request.user)
    services.call_rematch(call=alert.call)
    alert.call.refresh_from_db()
    return render(request, "telephony/partials/panel.html", _panel_context(alert))


@require_POST
@require(Capability.CALL_HANDLE)
def outbound_log(request):
    customer = get_object_or_404(Customer, pk=_posted_id(request, "customer"), merged_into=None)
    try:
        call = services.outbound_call_log(actor=request.user, customer=customer,
                                          number=request.POST.get("number", ""))
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"call": call.pk}, status=201)


@require(Capability.CALL_VIEW)
def call_list(request):
    state = request.GET.get("state", "")
    direction = request.GET.get("direction", "")
    calls = selectors.call_log(
        state=state if state in CallState.values else "",
        direction=direction if direction in Direction.values else "",
        agent_id=request.user.pk if request.GET.get("mine") else None,
    )
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    return render(request, "telephony/calls.html", {
        "page": page, "states": CallState.choices, "directions": Direction.choices,
        "state": state, "direction": direction,
    })


@require(Capability.CALL_VIEW)
def callbacks(request):
    page = Paginator(selectors.callbacks_due(), 50).get_page(request.GET.get("page"))
    return render(request, "telephony/callbacks.html", {"page": page})


@require_POST
@require(Capability.CALL_HANDLE)
def callback_done(request, call_pk: int):
    services.callback_done(call=get_object_or_404(Call, pk=call_pk))
    return redirect("telephony:callbacks")


@require(Capability.TELEPHONY_MANAGE)
def settings_page(request):
    new_token = None
    if request.method == "POST":
        try:
            if "integration" in request.POST:
                integration, new_token = services.integration_create(
                    name=request.POST.get("name", ""))
            elif "deactivate" in request.POST:
                CtiIntegration.objects.filter(pk=_posted_id(request, "deactivate")).update(
                    is_active=False)
                return redirect("telephony:settings")
            elif "block" in request.POST:
                services.number_block(actor=request.user, number=request.POST.get("number", ""),
                                      reason=request.POST.get("reason", ""))
                return redirect("telephony:settings")
            elif "unblock" in request.POST:
                BlockedNumber.objects.filter(pk=_posted_id(request, "unblock")).delete()
                return redirect("telephony:settings")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return render(request, "telephony/settings.html", {
        "integrations": CtiIntegration.objects.order_by("-id"),
        "blocked": BlockedNumber.objects.order_by("-id"),
        "new_token": new_token,
        "webhook_base": request.build_absolute_uri("/cti/"),
    })
