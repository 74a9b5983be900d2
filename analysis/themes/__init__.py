"""Themes from residents' answers (scikit-learn conventions)."""
