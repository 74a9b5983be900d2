"""Fuzzing with Hypothesis: arbitrary inputs to the engine and the service, arbitrary
scripts to the validator. No unhandled exception, no corrupted state."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations import engine
from conversations.script import Script, ScriptError, load_script, parse_script
from conversations.service import ConversationService, Who

EXAMPLE = load_script(EXAMPLE_SCRIPT)
STEP_IDS = [s.id for s in EXAMPLE.steps] + ["_consent", "nope", ""]
OPTION_IDS = [o.id for s in EXAMPLE.steps for o in s.options] + [
    "_agree", "_decline", "_skip", "_done", "_yes", "_no", "_c0", "_c1", "_c9", "x",
]  # fmt: skip

texts = st.text(max_size=300) | st.sampled_from(
    ["yes", "No", "  ", "Done", "65 or over", "Skip", "🙂"]
)
inputs = st.one_of(
    st.builds(engine.Begin),
    st.builds(engine.TextInput, texts, st.one_of(st.none(), st.text(max_size=5))),
    st.builds(engine.EditedText, texts, st.text(max_size=5)),
    st.builds(
        engine.ChoiceInput,
        st.sampled_from(STEP_IDS),
        st.integers(min_value=-1, max_value=4),
        st.sampled_from(OPTION_IDS),
    ),
    st.builds(engine.Unsupported, st.sampled_from(["voice", "sticker", "photo", "?"])),
    st.builds(engine.SetLanguage, st.sampled_from(["en", "cy", "fr", ""])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(inputs, max_size=40))
def test_the_engine_survives_any_inputs(script_inputs: list[engine.Input]) -> None:
    state = engine.new_state(EXAMPLE, "en")
    for given_input in script_inputs:
        outcome = engine.step(EXAMPLE, state, given_input)
        # The state is plain data that survives a round trip, and still makes sense.
        state = engine.ConversationState.from_dict(json.loads(json.dumps(outcome.state.to_dict())))
        assert state.phase in ("consent", "steps", "done", "declined")
        if state.phase == "steps":
            assert state.step is not None and EXAMPLE.has_step(state.step)
        assert all(len(reply.text) <= 4096 for reply in outcome.replies)
        for answer in outcome.answers:
            assert EXAMPLE.has_step(answer.step_id) and answer.iteration >= 1
        assert outcome.replies or isinstance(given_input, engine.EditedText)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = tomllib.loads(EXAMPLE_SCRIPT.read_text(encoding="utf-8"))
    keys = st.sampled_from(
        ["slug", "title", "area", "languages", "consent", "steps", "population", "colour"]
    )

    def mutate(change: tuple[str, Any], step_change: tuple[int, str, Any]) -> dict[str, Any]:
        document = json.loads(json.dumps(base))
        key, value = change
        document[key] = value
        index, step_key, step_value = step_change
        if isinstance(document.get("steps"), list) and document["steps"]:
            target = document["steps"][index % len(document["steps"])]
            if isinstance(target, dict):
                target[step_key] = step_value
        return document

    step_keys = st.sampled_from(
        ["id", "kind", "text", "next", "options", "items", "back_to", "max", "profile", "multi"]
    )
    return st.builds(
        mutate, st.tuples(keys, toml_values), st.tuples(st.integers(0, 20), step_keys, toml_values)
    )


def _to_toml(value: Any) -> str:
    """Enough TOML for the fuzzer: JSON values written inline."""
    lines = []
    for key, item in value.items():
        lines.append(f"{json.dumps(str(key))} = {_inline(item)}")
    return "\n".join(lines)


def _inline(item: Any) -> str:
    if item is None:
        return '""'
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    if isinstance(item, str):
        return json.dumps(item)
    if isinstance(item, list):
        return "[" + ", ".join(_inline(i) for i in item) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {_inline(v)}" for k, v in item.items()) + "}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_the_validator_accepts_or_explains_any_script(document: dict[str, Any]) -> None:
    try:
        script = parse_script(_to_toml(document), "fuzz.toml")
    except ScriptError as error:
        assert str(error).startswith("fuzz.toml: ") and error.problem
        return
    assert isinstance(script, Script)
    engine.step(script, engine.new_state(script, None), engine.Begin())


def test_service_survives_junk(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.just("start"), st.one_of(st.none(), st.text(max_size=80))),
                st.tuples(st.just("press"), st.text(max_size=100)),
                st.tuples(st.just("text"), texts),
            ),
            max_size=12,
        ),
        st.integers(1, 5),
    )
    def run(actions: list[tuple[str, Any]], user: int) -> None:
        who = Who("telegram", str(user), str(user), "en")
        for kind, value in actions:
            if kind == "start":
                messages = service.start(who, value)
            elif kind == "press":
                messages = service.press(who, value)
            else:
                messages = service.receive(who, engine.TextInput(value))
            assert all(len(m.text) <= 4096 for m in messages)
            assert all(
                len(b.data.encode()) <= 64 for m in messages for row in m.buttons for b in row
            )

    run()
