from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path
from django.views.i18n import set_language

from kehu.api.api import api_urls
from kehu.telephony import views as telephony_views
from kehu.users import views as user_views


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("kehu.customers.urls")),
    path("", include("kehu.telephony.urls")),
    path("", include("kehu.service.urls")),
    path("", include("kehu.promises.urls")),
    path("", include("kehu.loyalty.urls")),
    path("", include("kehu.webhooks.urls")),
    path("", include("kehu.webform.urls")),
    path("", include("kehu.feedback.urls")),
    path("", include("kehu.insights.urls")),
    path("cti/<str:token>", telephony_views.cti_webhook, name="cti_webhook"),
    path("accounts/login/", user_views.login, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/tokens/", user_views.tokens, name="api_tokens"),
    path("users/", user_views.user_list, name="users"),
    path("users/<int:pk>/", user_views.user_edit, name="user_edit"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", healthz),
    path("api/", api_urls()),
]
