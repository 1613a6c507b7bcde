"""The QR a phone shows: alphanumeric mode, so the token costs 5.5 bits a character."""

import pytest
import segno

from epigrid.healthcode.tokens import make_qr, render_png, render_svg


def test_segno_picks_alphanumeric_mode_for_a_token_on_its_own(js_old):
    assert segno.make(js_old.issue(), micro=False).mode == "alphanumeric"


def test_the_rendered_qr_is_alphanumeric_at_level_m_or_better(js_old):
    qr = make_qr(js_old.issue())

    assert qr.mode == "alphanumeric"
    assert qr.error in {"M", "Q", "H"}
    assert not qr.is_micro
    # 41 x 41 modules: small enough to scan from a cracked phone screen at a gate
    assert qr.version == 6


def test_render_svg_gives_an_inline_svg(js_old):
    svg = render_svg(js_old.issue())

    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")


def test_render_png_gives_png_bytes(js_old):
    assert render_png(js_old.issue()).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_token_out_of_the_alphanumeric_set_is_refused_rather_than_encoded_as_bytes():
    with pytest.raises(ValueError):
        make_qr("HCT1:lower-case")
