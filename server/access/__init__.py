"""Access to the server: API keys, tiers, quotas and rate limits, and what a caller may ask for."""
