"""The pure flow: scripts, the engine that steps through them, and what it says. Imports nothing else of the project.

- scripts: `script` (the data model), `script_toml` (reading and validating a file),
  `script_checks` (checks across steps); the shipped scripts are in `scripts/`.
- the engine: `engine.step(script, state, input) -> outcome`, with `inputs`, `outcome` and
  `state` (the plain data in and out), and its parts: `turn`, `questions`, `routing`,
  `answering`, `readback`, `deliberation` (prioritise rounds), `matching` (typed words).
- what it says: `phrases` (the engine's own words), `wording` (the one lookup by language
  and channel), `messages` and `callbacks` (replies and button data for any channel).
"""
