"""An evidence pack as a tagged PDF: the HTML page, printed by WeasyPrint.

PDF/UA-1 makes WeasyPrint tag the document (headings, tables with their header
cells, figures carrying their images' alternative text as /Alt), so a screen
reader reads the PDF as it reads the page. Nothing is fetched: the page's only
resources are its inline styles and data URIs, and any other address is refused.
"""

from __future__ import annotations

from analysis.evidence.data import EvidencePack
from analysis.evidence.html import render_html


def render_pdf(pack: EvidencePack) -> bytes:
    """The pack as a PDF/UA-1 document. WeasyPrint is imported here: it takes a second."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    document = HTML(string=render_html(pack), url_fetcher=URLFetcher(allowed_protocols=("data",)))
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf
