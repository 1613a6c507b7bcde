"""gunicorn settings for epigrid in production: `gunicorn -c python:epigrid.gunicorn_conf
epigrid.wsgi`.

No query string reaches a log line: a searched phone or ID number travels in one (`/people/?q=…`,
a login's `next=`, a referer). gunicorn's own atoms `%(r)s`, `%(q)s` and `%(f)s`, and the raw URI
in its error lines, carry them; the logger below drops them whatever format an operator sets.
"""

import logging

from gunicorn.glogging import Logger as _GunicornLogger


def without_query(uri):
    """A URI or referer with its query string (and fragment) cut off."""
    if not isinstance(uri, str):
        return uri
    for mark in ("?", "#"):
        uri = uri.split(mark, 1)[0]
    return uri


class _NoQueryStrings(logging.Filter):
    """For gunicorn's error log: "Error handling request %s" is given the raw URI."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_query(a) if isinstance(a, str) and a.startswith(("/", "http")) else a
                for a in record.args
            )
        return True


class Logger(_GunicornLogger):
    _filter = _NoQueryStrings()

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(self._filter)  # a filter added twice is kept once

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = without_query(environ.get("RAW_URI") or environ.get("PATH_INFO"))
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = "-"
        atoms["f"] = without_query(atoms.get("f"))
        for key in ("{raw_uri}e", "{query_string}e", "{http_referer}e", "{referer}i", "{request_uri}e"):
            if key in atoms:
                atoms[key] = "-" if key == "{query_string}e" else without_query(atoms[key])
        return atoms


logger_class = "epigrid.gunicorn_conf.Logger"
accesslog = "-"
# the path without its query, the status, the size and the time taken
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms'
