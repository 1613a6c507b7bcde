"""Errors a service raises on bad input or a refused action. The API turns them into
`{code, message, field}` with a 4xx status; pages show `message` next to `field`."""


class DomainError(ValueError):
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403
