"""The venue code (场所码, R5.1): a signed QR that names one venue and its code's serial. A
forged, altered, moved or reissued code is refused; the A4 poster is a real one-page PDF."""

import re
import uuid
import zlib

import pytest

from epigrid.venues.services import codes
from epigrid.venues.services.codes import VenueCodeError, code_text, issue_code, venue_of_code
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db


def _raw(text: str) -> bytes:
    return codes._unb64(text[len(codes.PREFIX) :])


def _text(raw: bytes) -> str:
    return codes.PREFIX + codes._b64(raw)


def test_it_accepts_the_venues_current_code(make_venue):
    venue = make_venue()
    assert venue_of_code(code_text(venue)).pk == venue.pk


def test_it_refuses_a_forged_code(make_venue):
    """Signed with a key that is not ours (R5.1: cannot be forged)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    venue = make_venue()
    raw = _raw(code_text(venue))
    payload = raw[: -codes.SIGNATURE]
    forged = _text(payload + Ed25519PrivateKey.generate().sign(payload))
    with pytest.raises(VenueCodeError) as refused:
        venue_of_code(forged)
    assert refused.value.code == "venue_code_invalid"


def test_it_refuses_an_altered_code(make_venue):
    """One byte of the serial changed, signature kept."""
    venue = make_venue()
    raw = bytearray(_raw(code_text(venue)))
    raw[1 + 16 + 3] ^= 0x01
    with pytest.raises(VenueCodeError) as refused:
        venue_of_code(_text(bytes(raw)))
    assert refused.value.code == "venue_code_invalid"
    for junk in ("", "VNC1", "VNC1!!!", "HCT1:abc", "VNC1" + "A" * 500):
        with pytest.raises(VenueCodeError):
            venue_of_code(junk)


def test_it_refuses_a_code_moved_to_another_venue(make_venue):
    """Another venue's id put in with this venue's signature (a poster copied and relabelled)."""
    here = make_venue(name="万达广场")
    there = make_venue(name="人民医院", type="medical_institution")
    raw = bytearray(_raw(code_text(here)))
    raw[1 : 1 + 16] = there.pk.bytes
    with pytest.raises(VenueCodeError) as refused:
        venue_of_code(_text(bytes(raw)))
    assert refused.value.code == "venue_code_invalid"
    # and an unknown venue's id is refused the same way
    raw[1 : 1 + 16] = uuid.uuid4().bytes
    with pytest.raises(VenueCodeError):
        venue_of_code(_text(bytes(raw)))


def test_it_refuses_a_reissued_codes_old_serial(make_venue, system):
    venue = make_venue()
    old = code_text(venue)
    assert venue.code_serial == 1
    assert issue_code(actor=system, venue=venue) == 2
    with pytest.raises(VenueCodeError) as refused:
        venue_of_code(old)
    assert refused.value.code == "venue_code_invalid"
    assert venue_of_code(code_text(venue)).pk == venue.pk


def _pdf_streams(pdf: bytes) -> bytes:
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return pdf + b"".join(out)


def test_it_prints_the_poster_as_a_one_page_a4_pdf(make_venue, persona, client_for):
    from epigrid.venues.web.poster import poster_html

    venue = make_venue(name="万达广场", address="前进中路1号")
    response = client_for(persona("grid_worker")).get(f"/venues/{venue.pk}/poster.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "venue-poster.pdf").write_bytes(pdf)  # pdftoppm it to look at it
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    body = _pdf_streams(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", body)) == 1
    # A4: 595 x 842 points
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", body)
    assert box and round(float(box.group(1))) == 595 and round(float(box.group(2))) == 842
    # the venue's name is the document's title and first heading (UTF-16 in the PDF)
    assert ("feff" + venue.name.encode("utf-16-be").hex()).encode() in body.lower()
    html = poster_html(venue, "https://example.test/venues/c/" + code_text(venue) + "/")
    assert "扫场所码" in html and "Scan the venue code" in html and "<svg" in html
