"""Subscription delivery is per subscription: an endpoint that is slow to answer holds up only its
own subscription's notifications. Proved by order, not by time: the slow endpoint's handler waits
for an event the test holds, and the other subscription is notified meanwhile."""
from __future__ import annotations

import threading
from pathlib import Path

from tests.mock_platform.fhir import bundle, observation, patient
from tests.mock_platform.test_subscriptions import FAST, Receiver, parameters, running_platform, seqs, subscribe, \
    wait_status

# A delivery must not time out (and be sent again) while the test holds the slow endpoint.
PATIENT = dict(FAST, timeout_seconds=60.0)


def test_a_slow_endpoint_delays_only_its_own_subscription(tmp_path: Path) -> None:
    release = threading.Event()
    slow, fast = Receiver(gate=release), Receiver()
    try:
        with running_platform(str(tmp_path / "platform.sqlite3"), PATIENT) as api:
            assert api.transaction(bundle(patient("p1"))).status_code == 200
            held = subscribe(api, slow.url, "Observation")
            other = subscribe(api, fast.url, "Observation")
            wait_status(api, held, "active")
            wait_status(api, other, "active")

            assert api.transaction(bundle(observation("o1", "p1"))).status_code == 200
            first = api.events()["last_seq"]
            slow.wait_events(1)                          # its endpoint now holds event 1's notification
            assert api.transaction(bundle(observation("o2", "p1"))).status_code == 200
            second = api.events()["last_seq"]
            # The other subscription gets both events while the slow endpoint still holds the first.
            assert seqs(fast.wait_events(2)) == [first, second]
            assert not release.is_set() and seqs(slow.events()) == [first]   # one at a time, in order

            release.set()
            assert api.transaction(bundle(observation("o3", "p1"))).status_code == 200
            # Event 3 arrives after 1 and 2, each once: a repeat of either would have come before it.
            delivered = slow.wait_events(3)
            numbers = [parameters(n)["events-since-subscription-start"]["valueString"] for n in delivered]
            assert numbers == ["1", "2", "3"]
            assert seqs(delivered) == [first, second, api.events()["last_seq"]]
            assert [n["body"]["entry"][1]["resource"]["id"] for n in delivered] == ["o1", "o2", "o3"]
    finally:
        release.set()
        slow.close()
        fast.close()
