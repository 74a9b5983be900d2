"""The pure flow: scripts, the engine that steps through them, and what it says. Imports nothing else of the project."""
