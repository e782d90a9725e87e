"""The 22 standard SERVQUAL statements (Parasuraman, Zeithaml and Berry, 1988), the data
migration's seed. Each is read twice on the answer page: what an excellent company does
(expectation) and what we did (perception)."""

SERVQUAL_ITEMS = [
    # (dimension, English, Chinese)
    ("tangibles", "Has modern-looking equipment.", "拥有现代化的设备。"),
    ("tangibles", "Its physical facilities are visually appealing.", "服务场所的设施美观、舒适。"),
    ("tangibles", "Its employees are neat in appearance.", "员工衣着整洁、仪表得体。"),
    (
        "tangibles",
        "Materials such as brochures and statements are visually appealing.",
        "宣传册、账单等资料清楚美观。",
    ),
    (
        "reliability",
        "When it promises to do something by a certain time, it does so.",
        "承诺在某个时间之前做到的事，都能按时做到。",
    ),
    (
        "reliability",
        "When you have a problem, it shows a sincere interest in solving it.",
        "您遇到问题时，真心实意地帮您解决。",
    ),
    ("reliability", "Performs the service right the first time.", "第一次就把服务做好。"),
    (
        "reliability",
        "Provides its services at the time it promises to do so.",
        "在承诺的时间提供服务。",
    ),
    ("reliability", "Keeps its records free of errors.", "记录准确，不出差错。"),
    (
        "responsiveness",
        "Employees tell you exactly when services will be performed.",
        "员工会确切告诉您何时提供服务。",
    ),
    ("responsiveness", "Employees give you prompt service.", "员工为您提供及时的服务。"),
    ("responsiveness", "Employees are always willing to help you.", "员工总是乐于帮助您。"),
    (
        "responsiveness",
        "Employees are never too busy to respond to your requests.",
        "员工再忙也会及时回应您的要求。",
    ),
    (
        "assurance",
        "The behaviour of employees instils confidence in you.",
        "员工的言行举止让您信赖。",
    ),
    ("assurance", "You feel safe in your dealings with it.", "与我们打交道，您感到放心。"),
    ("assurance", "Employees are consistently courteous with you.", "员工始终对您以礼相待。"),
    (
        "assurance",
        "Employees have the knowledge to answer your questions.",
        "员工具备回答您问题的专业知识。",
    ),
    ("empathy", "Gives you individual attention.", "给予您个别的关注。"),
    (
        "empathy",
        "Has operating hours convenient to all its customers.",
        "营业时间方便所有顾客。",
    ),
    (
        "empathy",
        "Has employees who give you personal attention.",
        "有员工为您提供贴心的个人服务。",
    ),
    ("empathy", "Has your best interests at heart.", "真正把您的利益放在心上。"),
    ("empathy", "Employees understand your specific needs.", "员工了解您的具体需求。"),
]


def servqual_items_seed(model) -> int:
    """Writes the standard items into an empty table (the data migration's model, or the
    real one where a test database was flushed); returns how many were written."""
    if model.objects.exists():
        return 0
    model.objects.bulk_create(
        model(dimension=dimension, text_en=en, text_zh=zh, position=(n + 1) * 10)
        for n, (dimension, en, zh) in enumerate(SERVQUAL_ITEMS)
    )
    return len(SERVQUAL_ITEMS)
