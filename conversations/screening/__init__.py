"""Screening residents' words: text made safe (cleaning), disclosures of harm (safeguarding) and abuse."""
