"""Personal details in free text, found and scrubbed before words reach officers.

Public API: `scrub.scrub(text)` (details replaced by placeholders) and
`scrub.find_personal_details(text)`; `names`, `addresses` and `identifiers` are
its detectors."""
