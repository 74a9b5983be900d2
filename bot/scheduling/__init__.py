"""The scheduler and the jobs it runs."""
