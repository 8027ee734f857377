"""The sales app's agents (meetings, calls, proposals, payments), registered on import."""
