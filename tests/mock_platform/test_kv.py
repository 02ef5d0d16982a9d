"""The shared key-value state (HelseID clients, replay caches, operator records): the same
semantics on both storage backends."""
from mock_platform.storage import open_storage


def test_kv_add_if_absent_refuses_a_replay(database) -> None:
    store = open_storage(database)
    assert store.kv_add_if_absent("dpop-jti", "abc", ttl_seconds=60)
    assert not store.kv_add_if_absent("dpop-jti", "abc", ttl_seconds=60)
    assert store.kv_add_if_absent("dpop-jti", "other", ttl_seconds=60)
    assert store.kv_add_if_absent("dpop-jti", "old", ttl_seconds=-1)      # expired at once ...
    assert store.kv_add_if_absent("dpop-jti", "old", ttl_seconds=60)      # ... so it may be claimed again
    store.close()


def test_kv_expired_entries_are_gone(database) -> None:
    store = open_storage(database)
    store.kv_put("clients", "c1", {"name": "x"}, ttl_seconds=-1)
    assert store.kv_get("clients", "c1") is None
    store.kv_put("clients", "c2", {"name": "y"})
    store.kv_put("clients", "c2", {"name": "z"})                           # put replaces
    assert store.kv_list("clients") == {"c2": {"name": "z"}}
    store.kv_delete("clients", "c2")
    assert store.kv_get("clients", "c2") is None and store.kv_list("clients") == {}
    store.close()
