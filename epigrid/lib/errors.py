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


class FieldErrors(DomainError):
    """Every error found in one input, reported together so that a person fixes them in one go.
    `code`, `message` and `field` are the first error's (the API's error shape stays as it is),
    `errors` lists them all, each in the shape of a 422's problems (`apierrors.item`: field, row,
    column, code, message), so a client reads one kind of list."""

    def __init__(self, errors: list[DomainError]):
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self.status = first.status
        self.errors = list(errors)

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "errors": [
                {"field": e.field, "row": None, "column": None, "code": e.code, "message": e.message}
                for e in self.errors
            ],
        }


class ErrorCollector:
    """Collects the errors of several checks instead of stopping at the first:

    errors = ErrorCollector()
    when = errors.check(parse_time, data.when, default=None)
    errors.add(SomeError("code", "message", "field"))
    errors.raise_any()  # nothing, the one error, or FieldErrors with them all
    """

    def __init__(self, several: type[FieldErrors] = FieldErrors):
        self.errors: list[DomainError] = []
        self.several = several

    def add(self, error: DomainError) -> None:
        self.errors.extend(getattr(error, "errors", None) or [error])

    def check(self, check, *args, default=None, **kwargs):
        try:
            return check(*args, **kwargs)
        except DomainError as exc:
            self.add(exc)
            return default

    def has(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise self.several(self.errors)


def each_error(exc: DomainError) -> list[DomainError]:
    """The errors an exception stands for: those of a FieldErrors, or itself."""
    return list(getattr(exc, "errors", None) or [exc])
