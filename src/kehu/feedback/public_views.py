"""The answer page /s/<token>: no login, the recipient's language, once per link."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from kehu.customers.forms import apply_service_errors
from kehu.feedback import services
from kehu.feedback.forms import AnswerForm
from kehu.feedback.models import ServqualItem, SurveyKind
from kehu.users.models import secret_digest
from kehu.webform.services import RateLimited, submission_take
from kehu.webform.views import TOO_MANY_REQUESTS, client_address

GONE = 410
# The hash of the link just answered in this browser, so that the page after the answer
# says thank you while anyone else replaying the link is told it was answered.
SESSION_KEY = "feedback_answered"
STATUS = {"forged": 404, "expired": GONE, "answered": GONE, "revoked": GONE}


def _limited(request):
    """Every request to the page counts against the address: the web form's limiter."""
    try:
        with transaction.atomic():
            submission_take(
                client=f"survey:{client_address(request)}"[:64],
                now=timezone.now(),
                limit=settings.KEHU_SURVEY_LIMIT,
            )
    except RateLimited:
        return render(request, "feedback/public/limited.html", status=TOO_MANY_REQUESTS)
    return None


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    refused = _limited(request)
    if refused:
        return refused
    try:
        invitation = services.invitation_for_token(token=token)
    except services.InvitationUnusable as error:
        thanked = error.reason == "answered" and request.session.get(
            SESSION_KEY
        ) == secret_digest(token)
        template = "thanks" if thanked else error.reason
        language = request.GET.get("lang", "")
        with translation.override(
            language if language in services.LANGUAGES else translation.get_language()
        ):
            return render(
                request,
                f"feedback/public/{template}.html",
                status=200 if thanked else STATUS[error.reason],
            )
    language = request.GET.get("lang", "")
    if language not in services.LANGUAGES:
        language = invitation.language
    with translation.override(language):
        survey = invitation.survey
        items = (
            ServqualItem.objects.filter(is_active=True)
            if survey.kind == SurveyKind.SERVQUAL
            else ()
        )
        form = AnswerForm(request.POST or None, survey=survey, items=items)
        if request.method == "POST" and form.is_valid():
            try:
                services.response_submit(token=token, **form.service_kwargs())
            except services.InvitationUnusable as error:
                return render(
                    request, f"feedback/public/{error.reason}.html", status=STATUS[error.reason]
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                request.session[SESSION_KEY] = secret_digest(token)
                return redirect(f"{request.path}?lang={language}")
        return render(
            request,
            "feedback/public/answer.html",
            {
                "form": form,
                "survey": survey,
                "greeting": invitation.customer.salutation,
                "language": language,
                "other_language": "en" if language == "zh-hans" else "zh-hans",
            },
        )
