"""Evidence packs: a needs assessment of one reviewed theme, or of a whole consultation.

Pure: EvidencePack in (bot/actions/pack_figures.py gathers it), accessible HTML,
tagged PDF, CSV and XLSX out. No database, no network.
"""

from analysis.evidence.data import EvidencePack
from analysis.evidence.html import render_html
from analysis.evidence.pdf import render_pdf
from analysis.evidence.tables import render_csv, render_xlsx, tables

__all__ = ["EvidencePack", "render_csv", "render_html", "render_pdf", "render_xlsx", "tables"]
