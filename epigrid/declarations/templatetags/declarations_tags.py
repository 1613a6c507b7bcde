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
