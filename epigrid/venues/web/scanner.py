"""Pages: the venue's door scanner that keeps working without a network (R5.1, R4.2, R4.3).

The page is the shell; `static/venues/scanner.js` does the work in the browser: it reads a
health code (camera or photo with jsQR, or pasted text) and verifies it with the health code's
`verify.js` against the key list it keeps, or takes a typed ID number for people without a
phone, with a temperature; each entry gets its id (`crypto.randomUUID()`) and the time of the
scan on the device and goes into a queue in IndexedDB (`idb`, from npm), which uploads to
`POST /api/v1/venues/entries` in batches whenever there is a network. The colour-change feed
(`healthcode.feed`) pulled every minute tells an offline scanner that a code turned red.

A service worker (`static/venues/scanner-sw.js`, served from /venues/scanner-sw.js so that its
scope covers the scanner pages) keeps a copy of the page and its scripts, network first, so the
page opens again without a network after a reload.

Only the venue's own staff (and staff who may record there: `services.access.can_record`)
open it; anyone else is told there is no such venue.
"""

from decimal import Decimal
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from epigrid.accounts.access import scoped
from epigrid.healthcode import labels
from epigrid.venues import gate
from epigrid.venues.models import Venue, VenueStatus
from epigrid.venues.services.access import can_record

UPLOAD_BATCH = 500  # entries a request: small enough for a slow mobile link to finish one


def _fever_threshold() -> Decimal:
    # the browser warns offline at the lowest threshold a pack names; the upload's answer
    # then says what the rules in force ask
    return min((p.fever_threshold for p in gate.packs()), default=Decimal("37.3"))


def _texts() -> dict:
    language = labels.lang()
    return {
        **labels.for_browser(language),
        "issuers": labels.issuer_names(),
        "methods": {"staff_scan": _("health code"), "document": _("ID number")},
        "actions": {code: gate.action_label(code, language) for code in gate.ACTIONS},
        "keys_loaded": _("Key list loaded:"),
        "keys_cached": _("No network: using the key list saved at"),
        "no_keys": _("No key list yet: connect once to download it."),
        "online": _("Online"),
        "offline": _("Offline: entries are kept on this phone and uploaded later"),
        "queue": _("Waiting to upload"),
        "last_upload": _("Last upload"),
        "never": _("not yet"),
        "feed": _("Colour changes"),
        "feed_none": _("not loaded yet"),
        "feed_bad": _("the list of changes did not verify and was ignored"),
        "uploading": _("Uploading…"),
        "upload_failed": _("Upload failed; it will be tried again."),
        "sign_in_again": _("Sign in again to upload the waiting entries."),
        "refused": _("Refused by the server"),
        "changed_warning": _("Changed to %(colour)s at %(time)s, after this code was shown."),
        "holder_offline": _("The name is shown when there is a network."),
        "fever": _("Fever: %(t)s °C is at or above %(limit)s °C."),
        "recorded": _("Entry recorded at %(time)s."),
        "queued": _("waiting to upload"),
        "uploaded": _("uploaded"),
        "admitted": _("admitted"),
        "not_admitted": _("not admitted"),
        "document_entered": _("ID number entered"),
        "document_missing": _("Type the ID number first."),
        "nothing_to_record": _("Scan a code or type an ID number first."),
        "code_invalid": _("This code cannot be recorded; type the ID number instead."),
        "camera_start": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_denied": _("The camera cannot be used; paste the code text or take a photo."),
        "no_qr": _("No QR code found in the photo."),
        "temperature_range": _("A body temperature lies between 34.0 and 43.0 °C."),
    }


@scoped()
def venue_scanner(request, venue_id):
    venue = Venue.objects.select_related("type").filter(pk=venue_id).first()
    if venue is None or venue.status != VenueStatus.APPROVED or not can_record(request.user, venue):
        raise Http404
    language = labels.lang()
    return render(
        request,
        "venues/scanner.html",
        {
            "venue": venue,
            "venue_type": venue.type.label(language),
            "texts": _texts(),
            "config": {
                "venue_id": str(venue.pk),
                "trust_url": reverse("healthcode:trust"),
                "verify_url": "/api/v1/healthcode/verify",
                "feed_url": reverse("healthcode:changes"),
                "upload_url": "/api/v1/venues/entries",
                "service_worker_url": reverse("venues:scanner_sw"),
                "batch": UPLOAD_BATCH,
                "fever_threshold": str(_fever_threshold()),
            },
            "camera_available": finders.find("healthcode/vendor/jsQR.js") is not None,
            "queue_available": finders.find("venues/vendor/idb.js") is not None,
        },
    )


@scoped()
@require_GET
def service_worker(request):
    """The scanner's service worker (`static/venues/scanner-sw.js`), served from /venues/ so that
    its scope covers the scanner pages: a worker's scope is at most the folder it is served from."""
    found = finders.find("venues/scanner-sw.js")
    if found is None:
        raise Http404
    response = HttpResponse(Path(found).read_bytes(), content_type="text/javascript; charset=utf-8")
    # the browser checks for a new worker on every visit: it must not be kept for long
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns = [
    path("<uuid:venue_id>/scan/", venue_scanner, name="scanner"),
    path("scanner-sw.js", service_worker, name="scanner_sw"),
]
