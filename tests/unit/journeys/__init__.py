"""The random journeys of tests/unit/test_journeys_stateful.py: the setting, the model,
the state machine's base and its rules by family, and the feed of the plain properties."""
