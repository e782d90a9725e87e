"""The complaint analysis worksheet (有效处理投诉的分析方法, seed 002), as data.

Four steps, each a list of questions with the seed's answers; the Chinese catalogue
carries the seed's own wording. Answers are stored as {question key: value} on
ComplaintWorksheet, checked against these questions.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

ANSWER_TEXT_MAX = 2000


@dataclass(frozen=True)
class Question:
    key: str
    label: object
    # (value, label) pairs; empty for a free-text question.
    choices: tuple = ()
    # Several answers may be ticked (a list is stored).
    multiple: bool = False
    # A free-text explanation kept beside the choice, under "<key>_note".
    note: object = None


@dataclass(frozen=True)
class Step:
    number: int
    title: object
    questions: tuple[Question, ...]


CAN = (
    ("yes", pgettext_lazy("worksheet", "Yes")),
    ("mostly", gettext_lazy("Mostly")),
    ("unsure", gettext_lazy("Not sure")),
    ("no", pgettext_lazy("worksheet", "No")),
)
REASONABLE = (
    ("very", gettext_lazy("Very reasonable")),
    ("fairly", gettext_lazy("Fairly reasonable")),
    ("somewhat", gettext_lazy("Somewhat reasonable")),
    ("hardly", gettext_lazy("Hardly reasonable")),
)
ABLE = (
    ("yes", pgettext_lazy("worksheet", "Yes")),
    ("partly", gettext_lazy("Partly")),
    ("no", pgettext_lazy("worksheet", "No")),
    ("too_costly", gettext_lazy("Yes, but at too high a cost")),
)
OPTIONS = (
    ("yes", gettext_lazy("There is one")),
    ("to_explore", gettext_lazy("Worth exploring")),
    ("hardly", gettext_lazy("Hardly any")),
)

# The motive answer that marks a habitual complainer (seed 002: 习惯性投诉).
HABITUAL_MOTIVE = "habitual"
# The decision-step answer that hands the case to the superior.
HAND_TO_SUPERIOR = "superior"

STEPS: tuple[Step, ...] = (
    Step(
        1,
        gettext_lazy("Understand the case"),
        (
            Question(
                "whole_story_customer",
                gettext_lazy("Hearing only the customer's side, do you know the whole story?"),
                CAN,
            ),
            Question(
                "whole_story_parties",
                gettext_lazy("After contacting all parties, do you know the whole story?"),
                (
                    ("yes", pgettext_lazy("worksheet", "Yes")),
                    ("mostly", gettext_lazy("Mostly")),
                    ("confused", gettext_lazy("More confused than before")),
                    ("unsure", gettext_lazy("Not sure")),
                ),
            ),
            Question("key_conflict", gettext_lazy("What is the key point of conflict?")),
            Question(
                "motive",
                gettext_lazy("Why is the customer complaining?"),
                (
                    ("lost_temper", gettext_lazy("Lost their temper")),
                    ("venting", gettext_lazy("Venting")),
                    ("explanation", gettext_lazy("Wants an explanation")),
                    ("testing", gettext_lazy("Testing for more")),
                    (HABITUAL_MOTIVE, gettext_lazy("Habitual complaining")),
                ),
                multiple=True,
            ),
        ),
    ),
    Step(
        2,
        gettext_lazy("Cause, capability and policy"),
        (
            Question(
                "customer_at_fault",
                gettext_lazy("Judged objectively, is the customer at fault?"),
                (
                    ("entirely", gettext_lazy("Entirely the customer's fault")),
                    ("yes", gettext_lazy("At fault")),
                    ("a_little", gettext_lazy("A little at fault")),
                    ("unclear", gettext_lazy("Cannot tell")),
                ),
            ),
            Question(
                "we_at_fault",
                gettext_lazy("Judged objectively, are we at fault?"),
                (
                    ("entirely", gettext_lazy("Entirely our fault")),
                    ("yes", gettext_lazy("At fault")),
                    ("a_little", gettext_lazy("A little at fault")),
                    ("unclear", gettext_lazy("Cannot tell")),
                ),
            ),
            Question(
                "reasonable_customer_view",
                gettext_lazy("From the customer's point of view, is the demand reasonable?"),
                REASONABLE,
            ),
            Question(
                "reasonable_company_view",
                gettext_lazy("From the company's point of view, is the demand reasonable?"),
                REASONABLE,
            ),
            Question(
                "able_this_case",
                gettext_lazy("Reasonable or not, can we meet the demand in this particular case?"),
                ABLE,
            ),
            Question(
                "able_by_process",
                gettext_lazy("Reasonable or not, can our procedures meet the demand?"),
                ABLE,
            ),
            Question(
                "rule_forbids",
                gettext_lazy("Does a company rule stop us from meeting the demand?"),
                (
                    ("yes", gettext_lazy("There is one")),
                    ("no", gettext_lazy("There is none")),
                    ("unknown", gettext_lazy("Don't know")),
                ),
            ),
            Question(
                "exception",
                gettext_lazy("If so, why; can an exception be made?"),
                (
                    ("yes", gettext_lazy("It can")),
                    ("no", gettext_lazy("It cannot")),
                    ("others_decide", gettext_lazy("Someone else decides")),
                    ("unknown", gettext_lazy("Don't know")),
                ),
                note=gettext_lazy("Why"),
            ),
        ),
    ),
    Step(
        3,
        gettext_lazy("Strategy"),
        (
            Question(
                "cost_of_yes",
                gettext_lazy("What would saying yes cost?"),
                (
                    ("high", gettext_lazy("A high cost")),
                    ("some", gettext_lazy("Some cost")),
                    ("none", gettext_lazy("No cost")),
                    ("unknown", gettext_lazy("Don't know")),
                ),
            ),
            Question(
                "trouble_of_no",
                gettext_lazy("What trouble would saying no bring?"),
                (
                    ("lose_customer", gettext_lazy("Losing this customer")),
                    ("offend", gettext_lazy("Offending someone we cannot afford to")),
                    ("media_court", gettext_lazy("Media or court")),
                    ("departments", gettext_lazy("Trouble from other departments")),
                ),
                multiple=True,
            ),
            Question(
                "compromise",
                gettext_lazy("Is there a compromise?"),
                OPTIONS,
                note=gettext_lazy("Which"),
            ),
            Question(
                "alternative",
                gettext_lazy("Is there an alternative?"),
                OPTIONS,
                note=gettext_lazy("Which"),
            ),
        ),
    ),
    Step(
        4,
        gettext_lazy("Decision"),
        (
            Question(
                "summary",
                gettext_lazy("To sum up"),
                (
                    ("should", gettext_lazy("We should agree")),
                    ("should_not", gettext_lazy("We should not agree")),
                    ("can", gettext_lazy("We can agree")),
                    ("cannot", gettext_lazy("We cannot agree")),
                    ("unclear", gettext_lazy("Unclear")),
                ),
                multiple=True,
            ),
            Question(
                "position",
                gettext_lazy("My position"),
                (
                    ("proposal", gettext_lazy("My proposal")),
                    (HAND_TO_SUPERIOR, gettext_lazy("I cannot handle it; hand it to my superior")),
                ),
                note=gettext_lazy("Proposal"),
            ),
            Question(
                "evidence",
                gettext_lazy("Do you have enough material to support your position?"),
                (
                    ("yes", gettext_lazy("I have")),
                    ("no", gettext_lazy("I have not (I need others' support)")),
                ),
            ),
            Question(
                "approval",
                gettext_lazy("Does it need a superior's approval?"),
                (
                    ("mine", gettext_lazy("I can decide myself")),
                    ("easy", gettext_lazy("Approval is easy")),
                    ("hard", gettext_lazy("Approval is hard (takes long)")),
                    ("no_authority", gettext_lazy("I have no authority anyway")),
                ),
            ),
            Question(
                "departments",
                gettext_lazy("Do other departments need to help? How will you ask them?"),
                (
                    ("yes", gettext_lazy("They do")),
                    ("no", gettext_lazy("They don't")),
                ),
                note=gettext_lazy("How"),
            ),
        ),
    ),
)

QUESTIONS: dict[str, Question] = {q.key: q for step in STEPS for q in step.questions}


def answers_clean(raw: dict) -> dict:
    """The answers of one or more steps, checked: known questions, offered choices, and
    text within its length. Raises ValidationError naming each bad answer."""
    clean: dict = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        note_of = key.removesuffix("_note") if key.endswith("_note") else None
        question = QUESTIONS.get(note_of or key)
        if question is None or (note_of and question.note is None):
            errors[key] = _("The worksheet has no question “%(key)s”.") % {"key": key}
            continue
        if note_of or not question.choices:
            text = str(value or "").strip()
            if len(text) > ANSWER_TEXT_MAX:
                errors[key] = _("At most %(max)d characters.") % {"max": ANSWER_TEXT_MAX}
            elif text:
                clean[key] = text
            continue
        offered = {choice for choice, _label in question.choices}
        values = value if isinstance(value, list) else [value] if value else []
        if not question.multiple and len(values) > 1:
            errors[key] = _("Choose one answer.")
        elif any(v not in offered for v in values):
            errors[key] = _("Choose one of the answers offered.")
        elif values:
            clean[key] = values if question.multiple else values[0]
    if errors:
        raise ValidationError(errors)
    return clean


def answer_labels(answers: dict) -> list[tuple[Step, list[tuple[Question, str, str]]]]:
    """Each step with its questions, the answer shown in words and the note, for reading."""
    shown = []
    for step in STEPS:
        rows = []
        for question in step.questions:
            value = answers.get(question.key)
            labels = dict(question.choices)
            if question.choices:
                values = value if isinstance(value, list) else [value] if value else []
                text = "、".join(str(labels[v]) for v in values if v in labels)
            else:
                text = value or ""
            rows.append((question, text, answers.get(f"{question.key}_note", "")))
        shown.append((step, rows))
    return shown
