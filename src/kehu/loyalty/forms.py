from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.loyalty.models import Reward


class RedeemForm(forms.Form):
    reward = forms.ModelChoiceField(queryset=Reward.objects.none(), label=_("reward"))
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, rewards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = rewards if rewards is not None else Reward.objects.all()


class AdjustForm(forms.Form):
    points = forms.IntegerField(label=_("points (+/−)"))
    reason = forms.CharField(label=_("reason"), max_length=200)
