"""The limits of an evidence pack's evidence, in plain words: coverage gaps, small
numbers, answers not yet themed or only in proposed themes, and where answers came from.

Written once here so that the HTML, the PDF and the spreadsheet say the same."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.evidence.data import FEW, Dimension, HeardGroup, Priority, Size


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def theme_limits(
    size: Size, who: Sequence[Dimension], priority: Priority | None
) -> tuple[str, ...]:
    """What a theme's figures cannot bear."""
    limits = []
    if size.residents < FEW:
        limits.append(
            f"Only {_plural(size.residents, 'resident')} raised this theme: too few to say how "
            "widely the need is felt, or to compare groups."
        )
    for dimension in who:
        under = dimension.under_heard
        if under:
            limits.append(
                f"Under-heard among the residents who raised it, by {dimension.name.lower()}: "
                f"{', '.join(under)} (their share is under half their share of the population)."
            )
        absent = [g.label for g in dimension.groups if g.population_share and not g.residents]
        if absent and not set(absent) <= set(under):
            limits.append(
                f"Nobody who raised it is in these groups, by {dimension.name.lower()}: "
                f"{', '.join(absent)}. Whether they share the need is not known."
            )
        few = [g.label for g in dimension.groups if g.few and g.residents and not g.under_heard]
        if few and size.residents >= FEW:
            limits.append(
                f"By {dimension.name.lower()}, fewer than {FEW} residents in: {', '.join(few)}. "
                "Too few to say anything about those groups on their own."
            )
        if dimension.population_known and dimension.said < FEW and size.residents >= FEW:
            limits.append(
                f"Only {dimension.said} of its residents said their {dimension.name.lower()}: "
                "too few to compare with the population."
            )
    if priority is None:
        limits.append(
            "Residents have not prioritised this theme yet (no prioritise round with it)."
        )
    elif priority.participants < FEW:
        limits.append(
            f"Only {_plural(priority.participants, 'resident')} prioritised the themes: too few "
            "to rank them."
        )
    elif priority.close_to:
        limits.append(
            "Its priority is too close to call against "
            + ", ".join(priority.close_to)
            + ": the 95% intervals overlap."
        )
    return tuple(limits)


def pack_limits(
    residents: int,
    unthemed: int,
    proposed: int,
    since: int,
    heard: Sequence[HeardGroup],
    sources: Sequence[tuple[str, int]],
    languages: Sequence[str] = (),
) -> tuple[str, ...]:
    """What the whole consultation's evidence cannot bear; `languages` says which answers
    were not themed for their language (bot.actions.theme_languages)."""
    limits = []
    under = [f"{g.label} ({g.dimension.lower()})" for g in heard if g.under_heard]
    if under:
        limits.append(
            "Coverage gaps: these groups are under-heard across the consultation (under half "
            f"their share of the population): {', '.join(under)}. Needs they share may be missing."
        )
    if residents < FEW:
        limits.append(f"Only {_plural(residents, 'resident')} heard so far: too few to say much.")
    if unthemed:
        limits.append(
            f"{_plural(unthemed, 'answer')} not yet themed: they fit no reviewed theme yet, and "
            "are in no figure of any theme."
        )
    limits.extend(languages)
    if proposed:
        limits.append(
            f"{_plural(proposed, 'answer')} only in proposed themes that officers have not "
            "reviewed: those themes may still change, so they are not reported here."
        )
    if since:
        limits.append(
            f"{_plural(since, 'answer')} given since the analysis: a new analysis would code them."
        )
    if sources:
        listed = "; ".join(f"{name} {n}" for name, n in sources)
        limits.append(
            f"Residents by where they came from (partners' links and imported sources, as "
            f"named): {listed}. Answers gathered elsewhere were asked on other terms."
        )
    limits.append(
        "Quotes have personal details removed; answers that still held one, and answers "
        "withheld for safeguarding or abuse, are never quoted. Residents who asked to be "
        "forgotten are in no figure."
    )
    return tuple(limits)
