from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.customers.choices import LostReason
from kehu.feedback.models import (
    SERVQUAL_SCALE,
    TEXT_MAX,
    Channel,
    Dimension,
    Question,
    ServqualItem,
    Survey,
    SurveyKind,
)

QUESTIONS = {
    SurveyKind.CSAT: _("How satisfied are you with our service?"),
    SurveyKind.NPS: _("How likely is it that you would recommend us to a friend or colleague?"),
    SurveyKind.EFFORT: _("How easy was it to get what you needed from us?"),
    SurveyKind.EXIT: _("What is the main reason you stopped doing business with us?"),
}
# The words at the ends of each scale, read by screen readers with the numbers.
SCALE_ENDS = {
    SurveyKind.CSAT: (_("very dissatisfied"), _("very satisfied")),
    SurveyKind.NPS: (_("not at all likely"), _("extremely likely")),
    SurveyKind.EFFORT: (_("very difficult"), _("very easy")),
}
COMMENT_LABELS = {
    SurveyKind.NPS: _("What is the main reason for your score?"),
    SurveyKind.EXIT: _("Anything you would like to add?"),
}


def _scale(low: int, high: int) -> list[tuple[int, str]]:
    return [(n, str(n)) for n in range(low, high + 1)]


class AnswerForm(forms.Form):
    """Built from the survey: one radio group per scale, SERVQUAL's pairs, custom questions."""

    def __init__(self, *args, survey: Survey, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.items = list(items)
        self.questions = list(survey.questions.all()) if survey.kind == SurveyKind.CUSTOM else []
        radio = forms.RadioSelect
        if survey.score_range:
            self.fields["score"] = forms.TypedChoiceField(
                label=survey.question or QUESTIONS[survey.kind],
                choices=_scale(*survey.score_range),
                coerce=int,
                widget=radio,
            )
        if survey.kind == SurveyKind.EXIT:
            self.fields["exit_reason"] = forms.ChoiceField(
                label=survey.question or QUESTIONS[survey.kind],
                choices=LostReason.choices,
                widget=radio,
            )
        for item in self.items:
            for prefix, label in (
                ("e", _("An excellent company")),
                ("p", pgettext_lazy("servqual", "Us")),
            ):
                self.fields[f"{prefix}{item.pk}"] = forms.TypedChoiceField(
                    label=label, choices=_scale(*SERVQUAL_SCALE), coerce=int, widget=radio
                )
        for question in self.questions:
            if question.kind == Question.Kind.RATING:
                field = forms.TypedChoiceField(
                    label=question.text, choices=_scale(1, 5), coerce=int, widget=radio
                )
            else:
                field = forms.CharField(
                    label=question.text,
                    max_length=TEXT_MAX,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            self.fields[f"q{question.pk}"] = field
        self.fields["comment"] = forms.CharField(
            label=COMMENT_LABELS.get(survey.kind, _("Anything you would like to tell us?")),
            max_length=TEXT_MAX,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    @property
    def scale_ends(self):
        return SCALE_ENDS.get(self.survey.kind)

    def item_rows(self):
        """(item, expectation field, perception field) for the template."""
        return [(item, self[f"e{item.pk}"], self[f"p{item.pk}"]) for item in self.items]

    def question_fields(self):
        return [self[f"q{q.pk}"] for q in self.questions]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "score": data.get("score"),
            "comment": data.get("comment", ""),
            "exit_reason": data.get("exit_reason", ""),
            "servqual": {i.pk: (data[f"e{i.pk}"], data[f"p{i.pk}"]) for i in self.items},
            "answers": {q.pk: data.get(f"q{q.pk}") for q in self.questions},
        }


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "name",
            "kind",
            "trigger",
            "delay",
            "channel",
            "question",
            "expires_days",
            "is_active",
        ]


class SurveyEditForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["name", "trigger", "delay", "channel", "question", "expires_days", "is_active"]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Question.Kind.choices)
    text_en = forms.CharField(label=_("question in English"), max_length=300)
    text_zh = forms.CharField(label=_("question in Chinese"), max_length=300)


class ServqualItemForm(forms.ModelForm):
    class Meta:
        model = ServqualItem
        fields = ["dimension", "text_en", "text_zh", "is_active"]


class SendForm(forms.Form):
    customer_number = forms.CharField(
        label=_("Customer number"),
        max_length=20,
        required=False,
        help_text=_("One customer, or leave blank and give a tag."),
    )
    tag = forms.CharField(label=_("Every customer with the tag"), max_length=50, required=False)
    language = forms.ChoiceField(
        label=_("Language of the survey"),
        choices=[("", _("The default")), ("zh-hans", "简体中文"), ("en", "English")],
        required=False,
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("customer_number", "").strip()) == bool(data.get("tag", "").strip()):
            raise forms.ValidationError(_("Give either a customer number or a tag."))
        return data


__all__ = ["AnswerForm", "Channel", "Dimension"]
