"""Staff rules: rounds, broadcasts, themes and their coding, coverage, exports, safeguarding flags."""
