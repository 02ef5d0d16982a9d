"""The conformance suite: pytest tests that verify a target against the requirement catalog."""
