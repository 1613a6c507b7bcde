"""`bulk_collection` tunes the cycle collector for batch work and leaves it alone inside a web
request, where freezing would reach every other request of the process."""

import gc

from django.core import signals

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
    signals.request_started.send(sender=None)  # epigrid.web marks the request
    try:
        with bulk_collection():
            assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen
    finally:
        signals.request_finished.send(sender=None)
    with bulk_collection():
        assert gc.get_threshold() != threshold
