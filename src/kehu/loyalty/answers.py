"""How to say no gracefully (seed 002, 如何向客户说“不”): six techniques and their words.

The English is the source; the Chinese catalogue carries the seed's own wording.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

EXCLUSIVE = "exclusive"  # 独享尊贵
EXAMPLE = "example"  # 代入举例
INVESTIGATE = "investigate"  # 深入调查
PUBLICISE = "publicise"  # 全面宣传
COORDINATE = "coordinate"  # 内部协调
CARING = "caring"  # 贴心服务

TECHNIQUES = {
    EXCLUSIVE: (
        pgettext_lazy("saying no", "Exclusive honour"),
        _("Thank you for your interest in us. We regularly offer different customers "
          "different offers according to how they use our services; this offer was for "
          "the customers on its list. When there is a new offer, we will let you know as "
          "soon as possible."),
    ),
    EXAMPLE: (
        pgettext_lazy("saying no", "Put it in an example"),
        _("We offer each customer what fits their usage and purchase record, and the "
          "offer you have now is the one that suits you best. For example, if we gave a "
          "better offer to customers who use and spend less than you, that would not be "
          "fair to you either."),
    ),
    INVESTIGATE: (
        pgettext_lazy("saying no", "Look into it thoroughly"),
        _("I understand how you feel, and I am anxious for you too. To solve this as "
          "quickly and as well as possible, we need time to look into it carefully and "
          "find the best solution, so this time is necessary and worth it."),
    ),
    PUBLICISE: (
        pgettext_lazy("saying no", "Tell everyone"),
        _("Please rest assured: when we have a new offer, we will tell you at once through "
          "all our channels. Please keep an eye out for it."),
    ),
    COORDINATE: (
        pgettext_lazy("saying no", "Coordinate inside"),
        _("We will pass your valuable suggestion to the department concerned straight "
          "away. They need more time to gather other customers' suggestions and data, to "
          "design an offer that suits you better. We will let you know at once."),
    ),
    CARING: (
        pgettext_lazy("saying no", "Caring service"),
        _("We offer you what suits your usage best, and this offer is exclusive to "
          "customers like you. Your friend's offer likewise suits them, and they cannot "
          "choose yours either."),
    ),
}
