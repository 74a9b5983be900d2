"""Checks that span a script's steps: links, read-backs, loops, profile questions, population.

Run once the steps have been read one by one (:mod:`conversations.flow.script_toml`);
each error names the file, the step and the problem.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from conversations.flow.script import Script, ScriptError


def check_links(script: Script) -> None:
    """Every link names a step; read-backs, loops and profile questions are where they may be."""
    fail = partial(ScriptError, script.source_path)
    positions = {s.id: i for i, s in enumerate(script.steps)}
    for step in script.steps:
        where = f"step '{step.id}'"
        targets = [("next", step.next)] + [(f"option '{o.id}' next", o.next) for o in step.options]
        for label, target in targets:
            if target is not None and target not in positions:
                raise fail(where, f"{label} '{target}' is not a step id")
        if step.kind == "end" and (step.next or step.options):
            raise fail(where, "an end step cannot lead anywhere")
        if step.kind == "reflect":
            for item in step.items:
                if item.step not in positions:
                    raise fail(where, f"item step '{item.step}' is not a step id")
                if script.step(item.step).kind not in ("text", "choice"):
                    raise fail(where, f"item step '{item.step}' asks nothing to reflect")
                if positions[item.step] >= positions[step.id]:
                    raise fail(where, f"item step '{item.step}' comes after the reflect step")
        if step.kind == "loop":
            assert step.back_to is not None
            if step.back_to not in positions:
                raise fail(where, f"back_to '{step.back_to}' is not a step id")
            if positions[step.back_to] >= positions[step.id]:
                raise fail(where, f"back_to '{step.back_to}' must come before the loop")
    loops = [s for s in script.steps if s.kind == "loop"]
    for first in loops:
        for second in loops:
            if first is second:
                continue
            a = (positions[first.back_to or ""], positions[first.id])
            b = (positions[second.back_to or ""], positions[second.id])
            if a[0] <= b[0] <= a[1]:
                raise fail(f"step '{second.id}'", f"loops cannot overlap loop '{first.id}'")
    dimensions: dict[str, str] = {}
    for step in script.steps:
        if step.profile:
            if step.profile in dimensions:
                raise fail(
                    f"step '{step.id}'",
                    f"profile '{step.profile}' is already asked by step '{dimensions[step.profile]}'",
                )
            if script.loop_enclosing(step.id):
                raise fail(f"step '{step.id}'", "a profile question cannot be inside a loop")
            dimensions[step.profile] = step.id


def check_population(raw: Any, script: Script) -> dict[str, dict[str, float]]:
    """The [population] table: each profile dimension's option shares, adding up to 1."""
    fail = partial(ScriptError, script.source_path)
    if not isinstance(raw, dict):
        raise fail("population", "must be a table of dimensions")
    dimensions = script.profile_dimensions()
    result: dict[str, dict[str, float]] = {}
    for dimension, shares in raw.items():
        where = f"population.{dimension}"
        if dimension not in dimensions:
            raise fail(where, "no step asks this profile dimension")
        if not isinstance(shares, dict) or not shares:
            raise fail(where, "must map option ids to population shares")
        step = dimensions[dimension]
        clean: dict[str, float] = {}
        for option_id, share in shares.items():
            if step.option(option_id) is None:
                raise fail(where, f"'{option_id}' is not an option of step '{step.id}'")
            if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
                raise fail(where, f"'{option_id}' must be a share between 0 and 1")
            clean[option_id] = float(share)
        total = sum(clean.values())
        if abs(total - 1.0) > 0.02:
            raise fail(where, f"shares add up to {total:.3f}, not 1")
        result[dimension] = clean
    return result
