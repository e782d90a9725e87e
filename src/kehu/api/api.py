from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from kehu.api.auth import TokenAuth
from kehu.customers.api import router as customers_router
from kehu.feedback.api import router as feedback_router
from kehu.insights.api import router as insights_router
from kehu.loyalty.api import router as loyalty_router
from kehu.promises.api import router as promises_router
from kehu.service.api import router as service_router
from kehu.service.reports_api import router as service_reports_router
from kehu.telephony.api import router as telephony_router

api = NinjaAPI(
    title="kehu API",
    version="1",
    description="Customers, contacts, calls and caller lookup, service cases, promises and "
    "follow-ups, surveys and satisfaction results, loyalty (members, points, rewards, "
    "offers) and transactions, customer value (scores, churn risk, refreshes). "
    "Authenticate with `Authorization: Bearer <token>` "
    "(create tokens under Account → API tokens) or a signed-in session.",
    auth=[TokenAuth(), django_auth],
    docs_decorator=login_required,
    urls_namespace="api",
)
api.add_router("/", customers_router)
api.add_router("/", telephony_router)
api.add_router("/", service_router)
api.add_router("/", promises_router)
api.add_router("/", feedback_router)
api.add_router("/", service_reports_router)
api.add_router("/", loyalty_router)
api.add_router("/", insights_router)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(
        request, {"detail": "You do not have permission to do this."}, status=403
    )


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


def api_urls():
    """The API's URLs, exempt from the login redirect: they answer 401 themselves."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback.login_required = False
    return patterns, app_name, namespace
