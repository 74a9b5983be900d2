"""The JSON document of `needsfirst analyse`: themes and each row's theme."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.themes.model import ThemeModel
from analysis.themes.tracking import Tracking


def themes_json(
    model: ThemeModel,
    texts: Sequence[str],
    tracking: Tracking | None = None,
) -> dict[str, Any]:
    """`{"themes": [...], "assignments": [...], "secondary": [...], "unthemed": n}`.

    `model` must have been fitted on `texts` (same rows, same order). Theme ids
    are the model's labels, or persistent ids when `tracking` is given.
    `assignments[i]` is row i's theme id, None when unthemed; `secondary[i]` lists
    up to two further theme ids.
    """
    labels = model.labels_
    if len(labels) != len(texts):
        raise ValueError(
            f"the model was fitted on {len(model.labels_)} texts, not these {len(texts)}"
        )
    mapping = {t.id: t.id for t in model.themes_}
    if tracking is not None:
        mapping = tracking.id_of_index()
    themes: list[dict[str, Any]] = []
    if tracking is None:
        for theme in sorted(model.themes_, key=lambda t: (-t.size, t.id)):
            themes.append(_theme_entry(theme.id, theme.label, theme.size, [theme.id], model))
    else:
        for tracked in tracking.themes:
            indices = sorted(tracked.indices)
            entry = _theme_entry(tracked.id, tracked.label, tracked.size, indices, model)
            entry["status"] = tracked.status
            themes.append(entry)

    def theme_id(label: int) -> int | None:
        return None if label < 0 else mapping[int(label)]

    assignments = [theme_id(int(x)) for x in labels]
    secondary = []
    for row, extra in enumerate(model.secondary_labels_):
        ids = []
        for label in extra:
            mapped = theme_id(int(label))
            if mapped is not None and mapped != assignments[row] and mapped not in ids:
                ids.append(mapped)
        secondary.append(ids)
    return {
        "themes": themes,
        "assignments": assignments,
        "secondary": secondary,
        "unthemed": sum(1 for a in assignments if a is None),
    }


def _theme_entry(
    theme_id: int, label: str, size: int, indices: Sequence[int], model: ThemeModel
) -> dict[str, Any]:
    """One theme; when several fitted themes share an id, the largest one describes it."""
    parts = sorted((model.themes_[i] for i in indices), key=lambda t: -t.size)
    lead = parts[0]
    return {
        "id": theme_id,
        "label": label,
        "keywords": lead.keywords,
        "size": size,
        "quotes": [q for part in parts for q in part.quotes][:3],
        "domains": lead.domains,
    }
