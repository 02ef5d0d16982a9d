from mock_platform.storage import SqliteStorage


def test_kv_add_if_absent_refuses_a_replay(tmp_path) -> None:
    store = SqliteStorage(str(tmp_path / "kv.sqlite3"))
    assert store.kv_add_if_absent("dpop-jti", "abc", ttl_seconds=60)
    assert not store.kv_add_if_absent("dpop-jti", "abc", ttl_seconds=60)
    assert store.kv_add_if_absent("dpop-jti", "other", ttl_seconds=60)


def test_kv_expired_entries_are_gone(tmp_path) -> None:
    store = SqliteStorage(str(tmp_path / "kv.sqlite3"))
    store.kv_put("clients", "c1", {"name": "x"}, ttl_seconds=-1)
    assert store.kv_get("clients", "c1") is None
    store.kv_put("clients", "c2", {"name": "y"})
    assert store.kv_list("clients") == {"c2": {"name": "y"}}
