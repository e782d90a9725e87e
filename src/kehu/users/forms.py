from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from kehu.users.models import User


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput,
                               validators=[validate_password])

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "team", "extension"]


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "role", "team", "extension", "is_active"]

    def _post_clean(self):
        pass
