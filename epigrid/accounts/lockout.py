"""Who a run of wrong passwords locks out (django-axes' `AXES_LOCKOUT_PARAMETERS` callable).

Five wrong passwords for one username from one address lock that username at that address
(`AXES_FAILURE_LIMIT`): an office behind one NAT address keeps signing in while one of its
users is locked. A higher count for one username from all addresses together
(`EPIGRID_LOGIN_USER_FAILURE_LIMIT`) locks the username everywhere, so a guess spread over
many addresses still stops. Both count within the cool-off (`AXES_COOLOFF_TIME`).

Axes compares one failure count with one limit; the two limits are had by counting per user and
address until the user's total reaches the higher limit, and per user from then on (a total of
at least the higher limit is over the lower one too).
"""

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

PER_ADDRESS = [["username", "ip_address"]]
PER_USER = ["username"]


def user_failures(username: str, request: HttpRequest) -> int:
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    at = getattr(request, "axes_attempt_time", None) or timezone.now()
    recent = AccessAttempt.objects.filter(username=username, attempt_time__gte=at - get_cool_off(request))
    return recent.aggregate(n=Sum("failures_since_start"))["n"] or 0


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    if not isinstance(request_or_attempt, HttpRequest):
        return PER_ADDRESS
    from axes.helpers import get_client_username

    username = get_client_username(request_or_attempt, credentials)
    if username and user_failures(username, request_or_attempt) >= settings.EPIGRID_LOGIN_USER_FAILURE_LIMIT:
        return PER_USER
    return PER_ADDRESS
