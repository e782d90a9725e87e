from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kehu.users.models import ApiToken
from kehu.users.services import api_token_create

login = auth_views.LoginView.as_view(redirect_authenticated_user=True)


@require_http_methods(["GET", "POST"])
def tokens(request):
    """Each user manages their own API tokens; a new token is shown once."""
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token = get_object_or_404(ApiToken, pk=request.POST["revoke"], user=request.user)
            token.delete()
            messages.success(request, _("Token revoked."))
            return redirect("api_tokens")
        name = request.POST.get("name", "").strip()[:100]
        if not name:
            messages.error(request, _("Give the token a name."))
        else:
            _token, new_token = api_token_create(user=request.user, name=name)
    return render(request, "users/tokens.html", {
        "tokens": request.user.api_tokens.order_by("-created_at"), "new_token": new_token,
    })
