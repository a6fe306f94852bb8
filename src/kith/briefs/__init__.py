"""Briefs: what changed, account briefs, meeting prep (deterministic, as of a day)."""
