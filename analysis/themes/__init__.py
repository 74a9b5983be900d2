"""Themes from residents' answers, with scikit-learn's conventions.

Public API (import from the modules named; nothing is imported here, so that
reading one stage does not load scikit-learn's clustering):

- Discovery: `model.ThemeModel(...).fit(texts)` -> `labels_`, `themes_`,
  `centroids_`; stages `normalise`, `vectorise`, `reduce`, `embed` (optional
  sentence embeddings), `cluster`, `theme_count` (how many themes), `describe`
  (`describe_groups`), `naming`, `domains`, `nonanswers`, `clauses`, `streaming`.
- Coding against the officers' codebook: `coding.ThemeCoder`, one pass over every
  answer in `codebook_run.code_answers`.
- Languages: `languages.detect` (an answer's language) and `languages.reads` (which
  languages a way of theming reads; the rest are left out and said on the pages).
- Across runs: `stable_space.stable_vectors` (the run-independent space),
  `tracking.track` (stable ids and statuses), `tracking.split_theme`.
- `needsfirst analyse`: `csv_input.read_texts`, `report.themes_json`.
"""
