"""The short Telegram summary that comes before the attached report."""

from __future__ import annotations

from analysis.digest.data import DigestData
from analysis.digest.html import headline_rows

LIMIT = 4096  # Telegram's longest message
TOP = 5


def render_summary(data: DigestData, *, limit: int = LIMIT) -> str:
    """Headline figures and the top themes, in plain text under Telegram's limit."""
    lines = [
        f"Weekly digest: {data.consultation_title} ({data.consultation_slug})",
        f"Week to {data.period_end:%a %d %b %Y}",
        "",
    ]
    lines += [
        f"{row.name}: {row.now} (last week {row.before})" for row in headline_rows(data.headline)
    ]
    if data.nothing_new:
        lines += ["", "Nothing new this week: no new residents, no answers and no decisions."]
        return _fit(lines, limit)
    if data.themes:
        lines += ["", "Top themes (id. name: answers, change):"]
        lines += [f"{t.theme_id}. {t.label}: {t.size}, {t.change}" for t in data.themes[:TOP]]
    elif data.analysis_note:
        lines += ["", data.analysis_note]
    if channels := [g for g in data.channels() if g.respondents]:
        lines += ["", "By channel: " + ", ".join(f"{g.label} {g.respondents}" for g in channels)]
    if under := data.under_heard():
        lines += [
            "",
            "Not heard enough: " + "; ".join(f"{g.label} ({d.lower()})" for d, g in under),
        ]
    elif data.too_few_to_say():
        lines += ["", "Who is not heard enough: too few residents so far to say."]
    if data.decisions:
        lines += ["", f"Decisions recorded this week: {len(data.decisions)}"]
    lines += ["", "The full report and a table of themes follow as files."]
    return _fit(lines, limit)


def _fit(lines: list[str], limit: int) -> str:
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
