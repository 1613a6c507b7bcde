"""The venue code poster (场所码): an A4 page to print and post at the entrance, made by
WeasyPrint from a template. The QR holds the public scan page's address with the signed code
in it; the words are in Chinese and English, whatever the staff member's language."""

import segno
from django.template.loader import render_to_string

from epigrid.venues.models import Venue

# Debian's fonts-noto-cjk (scripts/system-packages); WeasyPrint finds it through fontconfig
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK", sans-serif'


def qr_svg(url: str) -> str:
    """The scan address as an SVG QR, level M, without the XML declaration (it goes inline)."""
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_inline(scale=8, border=2)


def poster_html(venue: Venue, url: str) -> str:
    return render_to_string(
        "venues/poster.html",
        {
            "venue": venue,
            "type_zh": venue.type.name_zh,
            "type_en": venue.type.name_en,
            "qr": qr_svg(url),
        },
    )


def poster_pdf(venue: Venue, url: str) -> bytes:
    """One A4 page; WeasyPrint is imported here so the web process pays for it only when a
    poster is asked for."""
    import weasyprint

    css = weasyprint.CSS(string=render_to_string("venues/poster.css", {"font": FONT}))
    return weasyprint.HTML(string=poster_html(venue, url)).write_pdf(stylesheets=[css])
