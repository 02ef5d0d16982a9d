"""The mock HelseID's signing key: a test-only RSA key, kept in the shared database so that
several platform processes on one database sign and verify with the same key."""
from __future__ import annotations

import threading
import time
import weakref

from joserfc.jwk import KeySet, RSAKey

NAMESPACE = "helseid.signing"
ALG = "RS256"           # HelseID signs access tokens with RS256
_LOCK_TTL = 30


# Loading an RSA private key validates it (~0.1 s), so each process keeps the loaded key per
# storage. The key never changes once created, so the cache cannot go stale.
_loaded: "weakref.WeakKeyDictionary[object, RSAKey]" = weakref.WeakKeyDictionary()
_loaded_lock = threading.Lock()


def signing_key(storage) -> RSAKey:
    """The current signing key; created on first use (exactly once across processes)."""
    key = _loaded.get(storage)
    if key is None:
        key = _load_or_create(storage)
        with _loaded_lock:
            _loaded[storage] = key
    return key


def _load_or_create(storage) -> RSAKey:
    stored = storage.kv_get(NAMESPACE, "current")
    if stored is None:
        if storage.kv_add_if_absent(NAMESPACE + ".lock", "create", _LOCK_TTL):
            key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALG})
            key_dict = key.as_dict(private=True)
            key_dict["kid"] = key.thumbprint()
            storage.kv_put(NAMESPACE, "current", key_dict)
        stored = _wait_for(storage)
    return RSAKey.import_key(stored)


def _wait_for(storage) -> dict:
    deadline = time.time() + _LOCK_TTL
    while time.time() < deadline:
        stored = storage.kv_get(NAMESPACE, "current")
        if stored is not None:
            return stored
        time.sleep(0.05)
    raise RuntimeError("the HelseID signing key was not created in time")


def public_jwks(storage) -> dict:
    key = signing_key(storage)
    public = key.as_dict(private=False)
    public.update(kid=key.kid, use="sig", alg=ALG)
    return {"keys": [public]}


def verification_keys(storage) -> KeySet:
    return KeySet.import_key_set(public_jwks(storage))
