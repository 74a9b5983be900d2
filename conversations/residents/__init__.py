"""The resident's side, for any channel: joining, answering, reading back, their data."""
