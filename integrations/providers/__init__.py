"""One thin client module per vendor; each registers itself for the roles it serves."""
