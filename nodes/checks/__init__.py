"""Checks in code that decide what may enter a report: plan checks and the relevance gate."""
