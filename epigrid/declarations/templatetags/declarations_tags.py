from django import template

register = template.Library()


@register.inclusion_tag("declarations/_tabs.html", takes_context=True)
def declarations_tabs(context):
    from epigrid.declarations.views import tabs

    request = context.get("request")
    return {"tabs": tabs(request) if request is not None and request.user.is_authenticated else []}


@register.filter
def place(code, labels):
    """`{{ code|place:labels }}`: the label of a place code from a dict of labels."""
    return labels.get(code, code) if labels else code


def _label(choices, code):
    return choices(code).label if code in choices.values else code


@register.filter
def transport_label(code):
    """A pushed row's transport (stored as the code of the words the list used) in words."""
    from epigrid.declarations.models import Transport

    return _label(Transport, code)


@register.filter
def outcome_label(code):
    from epigrid.declarations.models import Outcome

    return _label(Outcome, code)
