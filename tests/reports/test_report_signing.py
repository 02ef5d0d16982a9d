"""Signing and verification: a round trip, and every kind of tampering detected with the right message."""
from __future__ import annotations

import base64
import functools
import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_support import make_report

from reports.signing import generate_key, load_public_keys, public_jwk, public_key_pem, sign, verify


@pytest.fixture()
def signed(passing_report, operator_key) -> dict:
    return sign(passing_report, operator_key, issuer="Marketplace operator (test)", validity=timedelta(days=30))


@pytest.fixture()
def keys(operator_key) -> dict:
    return load_public_keys(public_key_pem(operator_key.public_key()))


def _codes(result) -> list[str]:
    return [p.code for p in result.problems]


def test_round_trip(signed, keys) -> None:
    result = verify(json.loads(json.dumps(signed)), keys)
    assert result.valid, result.problems
    assert result.claims["iss"] == "Marketplace operator (test)"
    assert result.claims["sub"] == "999888777"
    assert result.claims["jti"] == signed["id"]
    assert signed["signed"] is True


def test_public_key_as_jwk_and_jwks(signed, operator_key) -> None:
    jwk = public_jwk(operator_key.public_key())
    assert verify(signed, load_public_keys(json.dumps(jwk))).valid
    assert verify(signed, load_public_keys(json.dumps({"keys": [jwk]}))).valid


def test_failed_requirement_hidden_behind_a_verified_verdict(signed, keys) -> None:
    signed["requirements"][1]["status"] = "failed"     # make it fail ...
    signed["verdict"] = "verified"                     # ... but keep claiming verified
    messages = [p.message for p in verify(signed, keys).problems]
    assert "requirement KT-03 was changed after signing (its status now reads 'failed')" in messages


def test_changed_verdict_alone(report, operator_key, keys) -> None:
    document = sign(report, operator_key, issuer="op")
    document["verdict"] = "verified"
    result = verify(document, keys)
    assert _codes(result) == ["changed"]
    assert "verdict" in result.problems[0].message and "'verified'" in result.problems[0].message


def test_changed_requirement_status(signed, keys) -> None:
    signed["requirements"][2]["status"] = "passed"   # a declared item claimed as tested
    messages = [p.message for p in verify(signed, keys).problems]
    assert messages == ["requirement SEC-02 was changed after signing (its status now reads 'passed')"]


def test_removed_and_added_requirement(signed, keys) -> None:
    removed = copy.deepcopy(signed)
    removed["requirements"].pop(0)
    assert any(p.message == "requirement KT-01 was removed after signing" for p in verify(removed, keys).problems)
    added = copy.deepcopy(signed)
    added["requirements"].append({"id": "X-1", "title": "x", "level": "MAY", "status": "passed"})
    assert any(p.message == "requirement X-1 was added after signing" for p in verify(added, keys).problems)


def test_changed_evidence_byte(report, operator_key, keys) -> None:
    document = sign(report, operator_key, issuer="op")
    evidence = document["requirements"][1]["evidence"][0]
    evidence["content"] = evidence["content"].replace("17", "18")
    result = verify(document, keys)
    assert _codes(result) == ["evidence"]
    assert "evidence item 1 of requirement KT-03 ('GET ServiceRequest/vedtak-17')" in result.problems[0].message


def test_changed_evidence_with_its_hash_recomputed(report, operator_key, keys) -> None:
    import hashlib
    document = sign(report, operator_key, issuer="op")
    evidence = document["requirements"][1]["evidence"][0]
    evidence["content"] = "{}"
    evidence["sha256"] = hashlib.sha256(b"{}").hexdigest()
    result = verify(document, keys)
    assert "evidence" in _codes(result)
    assert any("requirement KT-03 was changed" in p.message for p in result.problems)


def test_changed_dates(signed, keys) -> None:
    signed["finished"] = "2026-12-24T00:00:00Z"
    result = verify(signed, keys)
    assert [str(p) for p in result.problems] == [
        "changed: the dates were changed after signing (they now read 2026-11-20T10:00:00Z – 2026-12-24T00:00:00Z)"]


def test_changed_product_version(signed, keys) -> None:
    signed["product"]["version"] = "9.9.9"
    assert [p.message for p in verify(signed, keys).problems] == ["the product section was changed after signing"]


def test_changed_disclaimer(signed, keys) -> None:
    signed["disclaimer"] = "The marketplace guarantees everything."
    assert "outside the named sections" in verify(signed, keys).problems[0].message


def test_changed_signature_bytes(signed, keys) -> None:
    raw = bytearray(base64.urlsafe_b64decode(signed["signature"]["signature"] + "=="))
    raw[0] ^= 1
    signed["signature"]["signature"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert _codes(verify(signed, keys)) == ["bad-signature"]


def test_changed_claims_expiry(signed, keys) -> None:
    payload = json.loads(base64.urlsafe_b64decode(signed["signature"]["payload"] + "=="))
    payload["exp"] += 10 * 365 * 86400          # try to extend the validity
    signed["signature"]["payload"] = base64.urlsafe_b64encode(
        json.dumps(payload).encode()).rstrip(b"=").decode()
    assert _codes(verify(signed, keys)) == ["bad-signature"]


def test_changed_key_id(signed, keys) -> None:
    header = json.loads(base64.urlsafe_b64decode(signed["signature"]["protected"] + "=="))
    header["kid"] = "someone-else"
    signed["signature"]["protected"] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    result = verify(signed, keys)
    assert _codes(result) == ["unknown-key"]
    assert "'someone-else'" in result.problems[0].message


def test_signed_by_another_key(passing_report, keys) -> None:
    forged = sign(passing_report, generate_key(), issuer="Marketplace operator (test)")
    assert _codes(verify(forged, keys)) == ["unknown-key"]


def test_expired(passing_report, operator_key, keys) -> None:
    issued = datetime(2025, 1, 1, tzinfo=timezone.utc)
    document = sign(passing_report, operator_key, issuer="op", validity=timedelta(days=30), now=issued)
    assert verify(document, keys, now=issued + timedelta(days=29)).valid
    result = verify(document, keys, now=issued + timedelta(days=31))
    assert _codes(result) == ["expired"]
    assert "expired on 2025-01-31T00:00:00Z" in result.problems[0].message


def test_unsigned_local_report_cannot_pass_as_official(passing_report, keys) -> None:
    document = passing_report.to_dict()
    assert _codes(verify(document, keys)) == ["unsigned"]
    document["signed"] = True                          # claiming it does not make it so
    result = verify(document, keys)
    assert _codes(result) == ["unsigned"] and "cannot pass as an official" in result.problems[0].message


def test_revoked(signed, keys) -> None:
    result = verify(signed, keys, operator_status={"revoked": {"at": "2026-11-21T08:00:00Z",
                                                                "reason": "evidence was fabricated"}})
    assert _codes(result) == ["revoked"]
    assert "evidence was fabricated" in result.problems[0].message


def test_stale_after_a_new_product_version(signed, keys) -> None:
    result = verify(signed, keys, operator_status={"superseded_by": "4.3.0"})
    assert [str(p) for p in result.problems] == [
        "stale: EksJournal 4.3.0 has been registered since; this verification of version 4.2.1 is stale "
        "and must be redone"]


def _leaves(value, path=()):
    """Every (path, leaf) of a JSON document, the signature envelope excluded."""
    if isinstance(value, dict):
        for key, item in value.items():
            if path == () and key == "signature":
                continue
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, path + (index,))
    else:
        yield path, value


def _mutated(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + " " if value else "x"
    return "x"                                  # None → a value




@settings(max_examples=60, deadline=None)
@given(choice=st.integers(min_value=0))
def test_any_changed_value_anywhere_is_detected(choice: int) -> None:
    key = _hypothesis_key()
    signed = sign(make_report(failing=False), key, issuer="op")
    leaves = list(_leaves(signed))
    path, value = leaves[choice % len(leaves)]
    target = signed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = _mutated(value)
    result = verify(signed, load_public_keys(public_key_pem(key.public_key())))
    assert not result.valid, f"changing {path} went unnoticed"
    assert {p.code for p in result.problems} <= {"changed", "evidence"}


@functools.cache
def _hypothesis_key():
    return generate_key()        # one key for all examples: hypothesis does not take fixtures per example
