"""Small server-side SVG charts (no JavaScript, no CDN): horizontal bars and a weekly line."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "hbars", "lines"]

COLOURS = {"met": "#198754", "at_risk": "#ffc107", "breached": "#dc3545", None: "#0d6efd"}
SERIES = ("#0d6efd", "#dc3545", "#198754", "#6f42c1")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    href: str | None = None
    status: str | None = None
    text: str = ""


def hbars(bars: Sequence[Bar], *, max_value: float | None = None, title: str = "",
          number: Callable[[float], str] = lambda v: f"{v:g}", code_labels: bool = True) -> Markup:
    """Horizontal bars, one per item, each a link when ``href`` is given.

    Plain HTML and CSS (``.psp-bars`` in psp.css), not SVG text: a label wraps instead of being
    cut, follows the page's direction and is isolated for bidi; ``code_labels`` marks labels as
    Latin codes (``dir=ltr``, ``translate=no``). Values without ``text`` go through ``number``
    (pass a localising formatter: Persian digits on Persian pages)."""
    top = max_value or max([b.value or 0 for b in bars] + [1])
    marks = ' class="code" dir="ltr" translate="no"' if code_labels else ' dir="auto"'
    out = [f'<figure class="psp-bars" role="group" aria-label="{escape(title)}">',
           f'<figcaption class="visually-hidden">{escape(title)}</figcaption><ul class="list-unstyled m-0">']
    for b in bars:
        pct = 0 if not b.value else max(0.5, min(100.0, 100 * b.value / top))
        value = b.text or ("—" if b.value is None else number(b.value))
        cells = (f'<span class="psp-bar-label"><bdi{marks}>{escape(b.label)}</bdi></span>'
                 f'<span class="psp-bar-track"><span class="psp-bar" style="width: {pct:.1f}%; '
                 f'background: {COLOURS.get(b.status, COLOURS[None])}"></span></span>'
                 f'<span class="psp-bar-value"><bdi>{escape(value)}</bdi></span>')
        row = f'<a class="psp-bar-row" href="{escape(b.href)}">{cells}</a>' if b.href else \
            f'<span class="psp-bar-row">{cells}</span>'
        out.append(f"<li>{row}</li>")
    out.append("</ul></figure>")
    return Markup("".join(out))


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
          max_value: float = 100, title: str = "", width: int = 560, height: int = 200,
          number: Callable[[float], str] = lambda v: f"{v:g}") -> Markup:
    """A line chart of a few series over the same x labels (gaps where a value is None); axis
    values go through ``number`` (pass a localising formatter)."""
    left, bottom, top, right = 36, 28, 10, 10
    n = max(len(labels), 1)
    step = (width - left - right) / max(n - 1, 1)
    plot_h = height - top - bottom

    def y(v: float) -> float:
        return top + plot_h * (1 - v / max_value)
    out = [f'<svg class="psp-chart" viewBox="0 0 {width} {height + 20 * len(series)}" role="img" '
           f'aria-label="{escape(title)}" width="100%" direction="ltr">', f"<title>{escape(title)}</title>"]
    for t in (0, 50, 100):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y(t) + 4:.1f}" font-size="10" text-anchor="end">{escape(number(t))}</text>')
    for i, lab in enumerate(labels):
        out.append(f'<text x="{left + i * step:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">'
                   f'{escape(lab)}</text>')
    for s, (name, values) in enumerate(series):
        colour = SERIES[s % len(SERIES)]
        pts = [(left + i * step, y(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                       + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in pts]
        ly = height + 14 + 20 * s
        out.append(f'<rect x="{left}" y="{ly - 9}" width="12" height="10" fill="{colour}"/>'
                   f'<text x="{left + 18}" y="{ly}" font-size="12">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
