"""Reads of the web app that no feature app already answers, one module per area."""
