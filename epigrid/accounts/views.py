from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from epigrid.accounts import services
from epigrid.accounts.access import public, scoped
from epigrid.accounts.audit import Actor, audit_queryset
from epigrid.accounts.audit_labels import OBJECT_TYPE_LABELS
from epigrid.accounts.models import ApiToken, AuditEvent
from epigrid.accounts.roles import Perm, Role
from epigrid.lib.errors import DomainError

login = public(
    auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)
)
logout = public(auth_views.LogoutView.as_view())


class TokenForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("entity", "Name"),
        max_length=100,
        help_text=gettext_lazy("Which client uses it, e.g. “Lab 2 result upload”."),
    )
    prefixes = forms.CharField(
        label=gettext_lazy("Limit to divisions"),
        required=False,
        help_text=gettext_lazy("Optional division code prefixes, separated by spaces."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@scoped(Perm.TOKENS_OWN)
def tokens(request):
    created_secret = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_on"]
        try:
            token, created_secret = services.create_token(
                actor=Actor.from_request(request),
                user=request.user,
                name=form.cleaned_data["name"],
                prefixes=form.cleaned_data["prefixes"].split(),
                expires_at=timezone.make_aware(datetime.combine(expires, time.max)) if expires else None,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = TokenForm()
    rows = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": rows, "created_secret": created_secret, "now": timezone.now()},
    )


@scoped(Perm.TOKENS_OWN)
@require_POST
def revoke_token(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.revoke_token(actor=Actor.from_request(request), token=token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:tokens")


class AuditFilter(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("any"))] + list(AuditEvent.Action.choices),
    )
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False)
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)
    actor = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # chosen by name, not typed as a code
        labels = sorted((str(label), code) for code, label in OBJECT_TYPE_LABELS.items())
        self.fields["object_type"].choices = [("", gettext_lazy("any"))] + [(c, n) for n, c in labels]


@scoped(Perm.AUDIT_VIEW)
def audit(request):
    form = AuditFilter(request.GET or None)
    events = []
    before = request.GET.get("before", "")
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        since = data.get("since")
        until = data.get("until")
        qs = audit_queryset(
            request.user,
            action=data.get("action", ""),
            object_type=data.get("object_type", ""),
            object_id=data.get("object_id", ""),
            actor=data.get("actor", ""),
            since=timezone.make_aware(datetime.combine(since, time.min)) if since else None,
            until=timezone.make_aware(datetime.combine(until, time.max)) if until else None,
        )
        if before.isdigit():
            qs = qs.filter(id__lt=int(before))
        events = list(qs[:101])
    next_before = events[99].id if len(events) > 100 else None
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "accounts/audit.html",
        {"form": form, "events": events[:100], "next_before": next_before, "query": query.urlencode()},
    )


__all__ = ["login", "logout", "tokens", "revoke_token", "audit", "Role"]
