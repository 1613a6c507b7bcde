"""Input no database can store is refused at the door: a NUL character in a URL, a query
string, a form or a JSON body is a 400, not a server error deep in PostgreSQL (which cannot
store NUL in text). In a multipart upload only the text fields and the file names are checked:
the files themselves are binary and may hold NUL bytes."""

from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "invalid_characters",
                        "message": "The request contains a NUL character.",
                        "field": None,
                    },
                    status=400,
                )
            return HttpResponseBadRequest("The request contains a NUL character.")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in raw_query or "\x00" in raw_query:
            return True
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/"):
            return _multipart_has_nul(request)
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.body
            except Exception:  # body already read or too large: later layers answer that
                return False
            if b"\x00" in body or b"\\u0000" in body:
                return True
            # a percent-encoded NUL means something only in a form body; elsewhere (JSON, a
            # health-code token) the characters "%00" are just text
            if content_type.startswith("application/x-www-form-urlencoded") and b"%00" in body:
                return True
        return False


def _multipart_has_nul(request) -> bool:
    try:
        fields, files = request.POST, request.FILES
    except Exception:  # a malformed multipart body: the view's own parsing answers that
        return False
    if any("\x00" in key or any("\x00" in value for value in fields.getlist(key)) for key in fields):
        return True
    return any("\x00" in (upload.name or "") for upload in files.values())
