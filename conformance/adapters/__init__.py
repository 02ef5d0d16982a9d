"""How the suite drives an EPJ: an Adapter performs one scenario step and returns the answer.

Two adapters, chosen by the `--adapter` spec:
- `python:package.module:Class` loads a class in this process (`Class()` then `perform(step)`);
- `http(s)://host/path` POSTs each step as JSON to the vendor's test-control endpoint, the route a
  vendor takes when its EPJ is written in C#, Java or anything else (docs/scenario-protocol.md).
Both validate the step before it leaves and the answer when it comes back, so a protocol error is
reported as such and never mistaken for a conformance failure.
"""
from __future__ import annotations

import importlib
import ssl
from functools import cache
from typing import Protocol, runtime_checkable

import httpx

from conformance.scenarios import ProtocolError, validate_answer, validate_step


@runtime_checkable
class Adapter(Protocol):
    def perform(self, step: dict) -> dict: ...


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for all the suite's clients: building one per client loads the
    CA bundle each time (~0.2 s), which dominates short runs."""
    return httpx.create_ssl_context()


class AdapterError(RuntimeError):
    """The EPJ could not be reached or did not answer within the deadline."""


def _checked_answer(step: dict, answer: object) -> dict:
    validate_answer(answer)  # raises ProtocolError
    if answer["id"] != step["id"] or answer["step"] != step["step"]:
        raise ProtocolError(f"answer names step {answer['step']!r} id {answer['id']!r}, "
                            f"expected {step['step']!r} id {step['id']!r}")
    return answer


class PythonAdapter:
    """An adapter class in this process: anything with `perform(step) -> dict`."""

    def __init__(self, target: Adapter) -> None:
        self.target = target

    @classmethod
    def from_spec(cls, spec: str) -> "PythonAdapter":
        module_name, _, class_name = spec.removeprefix("python:").partition(":")
        if not module_name or not class_name:
            raise ValueError(f"a Python adapter spec is python:module:Class, got {spec!r}")
        return cls(getattr(importlib.import_module(module_name), class_name)())

    def perform(self, step: dict) -> dict:
        validate_step(step)
        return _checked_answer(step, self.target.perform(step))


class HttpAdapter:
    """POSTs each step to the vendor's test-control URL and reads the answer from the response."""

    def __init__(self, url: str, timeout: float = 10.0, client: httpx.Client | None = None,
                 event_hooks: dict | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._client = client or httpx.Client(timeout=timeout, verify=tls_context(), event_hooks=event_hooks)

    def perform(self, step: dict, timeout: float | None = None) -> dict:
        validate_step(step)
        try:
            response = self._client.post(self.url, json=step, timeout=timeout or self.timeout,
                                         headers={"Accept": "application/json"})
        except httpx.TimeoutException as error:
            raise AdapterError(f"the test-control endpoint {self.url} did not answer step "
                               f"{step['step']} within {timeout or self.timeout} s") from error
        except httpx.HTTPError as error:
            raise AdapterError(f"cannot reach the test-control endpoint {self.url}: {error}") from error
        if response.status_code != 200:
            raise ProtocolError(f"the test-control endpoint answered HTTP {response.status_code} to "
                                f"{step['step']}: {response.text[:300]}")
        try:
            answer = response.json()
        except ValueError as error:
            raise ProtocolError(f"the test-control endpoint answered {step['step']} with a body that "
                                f"is not JSON") from error
        return _checked_answer(step, answer)

    def close(self) -> None:
        self._client.close()


def load_adapter(spec: str, event_hooks: dict | None = None) -> PythonAdapter | HttpAdapter:
    """event_hooks: httpx hooks for the HTTP adapter (the suite records evidence with them)."""
    if spec.startswith(("http://", "https://")):
        return HttpAdapter(spec, event_hooks=event_hooks)
    if spec.startswith("python:"):
        return PythonAdapter.from_spec(spec)
    raise ValueError(f"unknown adapter spec {spec!r}: use python:module:Class or an http(s) URL")
