"""How a conformance test fails: a message that says what is wrong and a fix that says what to do."""
from __future__ import annotations

import pytest


class ConformanceFailure(AssertionError):
    def __init__(self, message: str, fix: str):
        super().__init__(f"{message}\nFix: {fix}")
        self.message = message
        self.fix = fix


def fail(message: str, fix: str) -> None:
    __tracebackhide__ = True
    raise ConformanceFailure(message, fix)


def requirement(*ids: str) -> pytest.MarkDecorator:
    """Declare which catalog requirements a test verifies (Inferno's `verifies_requirements`)."""
    return pytest.mark.requirement(*ids)
