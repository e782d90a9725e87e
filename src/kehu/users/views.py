from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from django.core.exceptions import ValidationError

from kehu.users.forms import UserCreateForm, UserEditForm
from kehu.users.models import ApiToken, User
from kehu.users.permissions import require
from kehu.users.roles import Capability
from kehu.users.services import api_token_create, user_create, user_update

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


@require(Capability.USER_MANAGE)
def user_list(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"], password=form.cleaned_data["password"],
            role=form.cleaned_data["role"], first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"], email=form.cleaned_data["email"],
            extension=form.cleaned_data["extension"], team=form.cleaned_data["team"],
        )
        messages.success(request, _("User %(name)s created.") % {"name": user.username})
        return redirect("users")
    return render(request, "users/list.html", {
        "users": User.objects.order_by("username"), "form": form,
    })


@require(Capability.USER_MANAGE)
def user_edit(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user=User.objects.get(pk=pk), **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("users")
    return render(request, "users/edit.html", {"form": form, "edited": user})
