"""Python's cycle collector during bulk work.

A bulk path (a sweep, a pushed-list commit, a results import, the checks of a 100,000-row list)
allocates millions of short-lived objects. With the default thresholds the collector keeps
walking every long-lived object of the process (packs, Django's registry, whatever the caller
holds) and can take a third of the time. Inside `bulk_collection()` the objects that existed
before it are frozen out of collection and young collections run less often; nested uses share
the outermost one, so a sweep inside a commit does not thaw what the commit froze.

Only for batch work in a worker or a command (`epigrid worker`, the benches, the demo build):
inside a web request it does nothing. Freezing is process-wide, so in a web process it would
freeze the objects of every other request in flight (they then live until the process ends)
and slow their young collections; the web path (a pushed list checked on upload) runs with
Python's own collector. `epigrid.web` marks each request (`request_started`/`request_finished`).
"""

import gc
import threading
from contextlib import contextmanager
from contextvars import ContextVar

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None
_in_request: ContextVar[bool] = ContextVar("epigrid_in_request", default=False)


def request_started(**kwargs) -> None:
    _in_request.set(True)


def request_finished(**kwargs) -> None:
    _in_request.set(False)


@contextmanager
def bulk_collection(active: bool = True):
    global _depth, _saved
    if not active or _in_request.get():
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            # no gc.collect() first: its full pass costs more than the garbage it would spare
            # from freezing
            gc.freeze()
            gc.set_threshold(50_000, 50, 1000)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
