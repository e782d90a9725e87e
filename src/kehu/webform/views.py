"""The public web form at /help/: no login, the visitor's language, a reference number back."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kehu.customers.forms import apply_service_errors
from kehu.webform import services
from kehu.webform.forms import WebCaseForm

TOO_MANY_REQUESTS = 429
# The reference travels to the thank-you page in the session, so that reloading that page
# cannot submit the form twice.
SESSION_KEY = "webform_reference"


def client_address(request) -> str:
    """The visitor's address: the proxies' X-Forwarded-For entry only when the setting
    says how many proxies there are (the header is otherwise anyone's to write)."""
    proxies = settings.KEHU_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies > 0 and forwarded:
        # Each proxy appends the address it saw: the one the first trusted proxy saw is the
        # client's, whatever the client wrote before it.
        return forwarded[-min(proxies, len(forwarded))][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def _limited(request):
    return render(request, "webform/limited.html", status=TOO_MANY_REQUESTS)


@login_not_required
@require_http_methods(["GET", "POST"])
def web_case(request):
    form = WebCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.is_bot:
            # Looks accepted, so the bot learns nothing; counts against its address.
            try:
                with transaction.atomic():
                    services.submission_take(client=client_address(request), now=timezone.now())
            except services.RateLimited:
                return _limited(request)
            request.session[SESSION_KEY] = ""
            return redirect("webform:thanks")
        fields = {k: v for k, v in form.cleaned_data.items() if k != "website"}
        try:
            case = services.web_case_submit(client=client_address(request), **fields)
        except services.RateLimited:
            return _limited(request)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            request.session[SESSION_KEY] = case.reference
            return redirect("webform:thanks")
    return render(request, "webform/form.html", {"form": form})


@login_not_required
def web_case_thanks(request):
    if SESSION_KEY not in request.session:
        return redirect("webform:case")
    return render(request, "webform/thanks.html", {"reference": request.session[SESSION_KEY]})
