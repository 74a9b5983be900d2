"""Screening residents' words: disclosures of harm (safeguarding) and abuse, from shipped models."""
