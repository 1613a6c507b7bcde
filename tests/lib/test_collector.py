"""`bulk_collection` tunes the cycle collector for batch work and leaves it alone inside a web
request, where freezing would reach every other request of the process."""

import gc

from django.core import signals
from django.db import close_old_connections

from epigrid.lib.collector import bulk_collection


def test_batch_work_freezes_and_thaws_the_collector():
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    with bulk_collection():
        with bulk_collection():  # nested: shares the outer one
            assert gc.get_threshold() == (50_000, 50, 1000)
        assert gc.get_threshold() == (50_000, 50, 1000)
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen


def test_inside_a_request_it_does_nothing():
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    # as Django's test client does: the request signals without closing the test's connection
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        signals.request_started.send(sender=None)  # epigrid.web marks the request
        with bulk_collection():
            assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen
        signals.request_finished.send(sender=None)
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)
    with bulk_collection():
        assert gc.get_threshold() != threshold
