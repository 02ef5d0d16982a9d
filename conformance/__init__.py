"""The implementation guide, the validator and the conformance suite of sandkasse."""
__version__ = "0.1.0"
