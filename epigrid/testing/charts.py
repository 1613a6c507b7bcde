"""Server-rendered bar charts (no chart library, no script): results on time and late per day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class DayBar:
    day: date
    on_time: int
    late: int

    @property
    def total(self) -> int:
        return self.on_time + self.late

    @property
    def share_on_time(self) -> float | None:
        return self.on_time / self.total if self.total else None


def stacked_bars_svg(
    bars: Sequence[DayBar], *, title: str, on_time_label: str, late_label: str, height: int = 180
) -> SafeString:
    """A stacked bar per day (on time below, late above), labelled and with a text alternative."""
    width_per = 34
    left, bottom, top = 40, 34, 14
    width = left + max(1, len(bars)) * width_per + 10
    peak = max((b.total for b in bars), default=0) or 1
    scale = (height - bottom - top) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 6}" y2="{height - bottom}" '
        'stroke="#9aa5b1"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="10" fill="#5b6675">{peak}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="10" '
        'fill="#5b6675">0</text>',
    ]
    for i, bar in enumerate(bars):
        x = left + i * width_per + 6
        on_h = bar.on_time * scale
        late_h = bar.late * scale
        base = height - bottom
        label = f"{bar.day:%m-%d}: {on_time_label} {bar.on_time}, {late_label} {bar.late}"
        parts.append(f"<g><title>{escape(label)}</title>")
        if bar.on_time:
            parts.append(
                f'<rect class="on-time" x="{x}" y="{base - on_h:.1f}" width="22" '
                f'height="{on_h:.1f}" fill="#1e9e4a"/>'
            )
        if bar.late:
            parts.append(
                f'<rect class="late" x="{x}" y="{base - on_h - late_h:.1f}" width="22" '
                f'height="{late_h:.1f}" fill="#d32f2f"/>'
            )
        parts.append("</g>")
        parts.append(
            f'<text x="{x + 11}" y="{base + 14}" text-anchor="middle" font-size="10" '
            f'fill="#5b6675">{bar.day:%m-%d}</text>'
        )
    legend_y = height - 6
    parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="#1e9e4a"/>')
    parts.append(f'<text x="{left + 14}" y="{legend_y}" font-size="11">{escape(on_time_label)}</text>')
    parts.append(f'<rect x="{left + 110}" y="{legend_y - 9}" width="10" height="10" fill="#d32f2f"/>')
    parts.append(f'<text x="{left + 124}" y="{legend_y}" font-size="11">{escape(late_label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
