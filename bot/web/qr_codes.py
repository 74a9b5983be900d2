"""QR codes for partners' posters: inline SVG made by segno (pure Python, no images).

The SVG has a viewBox and no size, so CSS sizes it (large on a poster), and
role="img" with a <title>, the alternative text a screen reader reads out.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

# Medium error correction: the code still scans with up to ~15% of it dirty or torn.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_svg(url: str, alt: str) -> Markup:
    """The QR code of `url` as inline SVG, described by `alt` (escaped by segno)."""
    code = segno.make(url, error=ERROR_CORRECTION, micro=False)
    svg = code.svg_inline(omitsize=True, border=QUIET_ZONE, title=alt, svgclass="qr",
                          dark="#000000", light="#ffffff")  # fmt: skip
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))
