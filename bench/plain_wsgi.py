"""The ceiling of the HTTP benchmark: a WSGI callable that answers a constant JSON body, served
by the same gunicorn with the same workers and load generator as epigrid. No Django, no
database: what the server and the machine can do at all."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "15")])
    return [b'{"status":"ok"}']
