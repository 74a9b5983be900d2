"""The conversation side, for any channel: the pure flow, residents, screening, staff rules, storage."""
