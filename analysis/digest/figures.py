"""The digest in figures alone, for the body of an email: counts, how many themes, who
is not heard enough. Never residents' words (no theme names, no quotes): an email
body is read in inboxes and forwarded where a file behind a check is not; the
words are in the attached table and on the dashboard."""

from __future__ import annotations

from analysis.digest.data import DigestData
from analysis.digest.html import headline_rows


def render_figures(data: DigestData) -> str:
    """Plain text: this week's figures beside last week's, themes and coverage gaps."""
    lines = [
        f"{row.name}: {row.now} (last week {row.before})" for row in headline_rows(data.headline)
    ]
    if data.nothing_new:
        lines.append("Nothing new this week: no new residents, no answers and no decisions.")
        return "\n".join(lines)
    themes = len(data.themes)
    lines.append(f"Themes: {themes}" + ("" if themes else " (the analysis has not run yet)"))
    # Group names come from the consultation's script, written by staff, not residents.
    under = data.under_heard()
    if under:
        named = "; ".join(f"{g.label} ({d.lower()})" for d, g in under)
        lines.append(
            f"Not heard enough: {len(under)} group{'s' if len(under) != 1 else ''} ({named})"
        )
    elif data.too_few_to_say():
        lines.append("Who is not heard enough: too few residents so far to say")
    else:
        lines.append("Not heard enough: no group")
    if data.priorities is not None:
        close = data.priorities.too_close_to_call
        joint = sum(1 for p in data.priorities.items if p.joint)
        lines.append(
            f"Priorities: {data.priorities.participants} residents voted; "
            + ("the ranking is too close to call" if close else
               f"{joint} themes too close to call with another" if joint else "each rank is clear")
        )  # fmt: skip
    if data.decisions:
        lines.append(f"Decisions recorded this week: {len(data.decisions)}")
    return "\n".join(lines)
