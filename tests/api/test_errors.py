"""Bad input gets a 4xx JSON {code, message, field}; nothing a client sends produces a 500."""

import pytest

GRID = "320583001001001"
ANY_TASK = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def api(persona, client_for):
    return client_for(persona("county_command"))


ITEM = {"field", "row", "column", "code", "message"}


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    if status == 422:
        # a 422 also lists every problem, each in one shape (issue 10.10c)
        assert set(body) == {"code", "message", "field", "errors"} and body["errors"]
        assert all(set(e) == ITEM for e in body["errors"]), body["errors"]
        assert body["field"] == body["errors"][0]["field"]
    else:
        assert set(body) == {"code", "message", "field"}
    assert body["message"]
    return body


@pytest.mark.parametrize(
    "payload, field, code",
    [
        (
            {
                "doc_type": "resident_id",
                "id_number": "320583199001011234",
                "name": "甲",
                "division_code": GRID,
            },
            "id_number",
            "id_checksum",
        ),
        (
            {
                "doc_type": "resident_id",
                "id_number": "11010519491231002X",
                "name": "甲",
                "division_code": "3205839999",
            },
            "division_code",
            "division_unknown",
        ),
        (
            {
                "doc_type": "resident_id",
                "id_number": "11010519491231002X",
                "name": "甲",
                "division_code": GRID,
                "phone": "999",
            },
            "phone",
            "phone_format",
        ),
        ({"doc_type": "visa", "id_number": "X", "name": "甲", "division_code": GRID}, "doc_type", "invalid"),
        ({"doc_type": "passport", "id_number": "E1234567", "division_code": GRID}, "name", "invalid"),
        (
            {
                "doc_type": "passport",
                "id_number": "E1234567",
                "name": "甲",
                "division_code": GRID,
                "birth_date": "2020-13-01",
            },
            "birth_date",
            "invalid",
        ),
    ],
)
def test_it_names_the_field_and_the_problem(api, payload, field, code):
    body = _error(
        api.post("/api/v1/persons", payload, content_type="application/json"),
        400 if code != "invalid" else 422,
    )
    assert body["field"] == field
    assert body["code"] == code


def test_malformed_json_is_a_400_not_a_500(api):
    response = api.post("/api/v1/persons", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "message", "field"}


def test_a_bad_cursor_is_a_400(api):
    assert _error(api.get("/api/v1/persons", {"cursor": "!!!"}), 400)["field"] == "cursor"


def test_a_duplicate_is_a_409(api):
    payload = {
        "doc_type": "resident_id",
        "id_number": "11010519491231002X",
        "name": "甲",
        "division_code": GRID,
    }
    assert api.post("/api/v1/persons", payload, content_type="application/json").status_code == 201
    assert (
        _error(api.post("/api/v1/persons", payload, content_type="application/json"), 409)["code"]
        == "person_exists"
    )


def test_unknown_objects_are_404_json(api):
    assert _error(api.get("/api/v1/persons/00000000-0000-4000-8000-000000000000"), 404)["code"] == "not_found"
    assert _error(api.get("/api/v1/divisions/999999"), 404)["code"] == "not_found"


def test_a_role_without_the_power_gets_403(persona, client_for):
    lab = client_for(persona("lab"))
    assert _error(lab.get("/api/v1/persons"), 403)["code"] == "permission_denied"


def test_keyset_pages_cover_everyone_once(api, make_person):
    for i in range(7):
        make_person(GRID, name=f"人{i}")
    seen, cursor = [], ""
    while True:
        page = api.get("/api/v1/persons", {"limit": 3, "cursor": cursor}).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7


def test_nul_characters_are_refused_with_400(api, world):
    assert _error(api.get("/api/v1/persons", {"q": "a\x00b"}), 400)["code"] == "invalid_characters"
    assert _error(api.get("/api/v1/divisions", {"q": "\x00"}), 400)["code"] == "invalid_characters"
    body = (
        '{"doc_type": "passport", "id_number": "E1234\\u00005", "name": "x", '
        '"division_code": "320583001001001"}'
    )
    assert _error(api.post("/api/v1/persons", body, content_type="application/json"), 400)["code"] == (
        "invalid_characters"
    )
    assert api.get("/people/", {"q": "\x00"}).status_code == 400


def test_nul_in_an_upload_name_or_form_field_is_refused_but_a_binary_file_is_not(persona, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = client_for(persona("data_team"))
    url = "/api/v1/declarations/pushed-lists"
    csv = "姓名,证件号码\n".encode()
    for fields in ({"name": "list\x00", "source": "other"}, {"name": "list", "source": "\x00"}):
        upload = SimpleUploadedFile("list.csv", csv, content_type="text/csv")
        assert _error(api.post(url, {**fields, "file": upload}), 400)["code"] == "invalid_characters"
    upload = SimpleUploadedFile("li\x00st.csv", csv, content_type="text/csv")
    assert api.post(url, {"name": "list", "source": "other", "file": upload}).status_code < 500
    # NUL bytes inside a file are normal (every XLSX has them): the file is read, and refused
    # for being no workbook, not for its characters
    upload = SimpleUploadedFile("list.xlsx", b"PK\x03\x04\x00\x00broken")
    response = api.post(url, {"name": "list", "source": "other", "file": upload})
    assert _error(response, 400)["code"] == "file_unreadable"


def test_it_names_row_and_column_in_a_422_from_the_lab_results(persona, client_for):
    lab = client_for(persona("lab"))
    rows = [
        {"barcode": "SAMPLE-0001", "result": "negative", "tested_at": "2020-02-01T10:00:00+08:00"},
        {"barcode": "not a barcode!", "result": "maybe", "tested_at": "2020-02-01T10:00:00+08:00"},
    ]

    body = _error(lab.post("/api/v1/testing/results", {"rows": rows}, content_type="application/json"), 422)

    assert {(e["row"], e["column"]) for e in body["errors"]} == {(2, "barcode"), (2, "result")}
    assert body["field"] in {"rows.1.barcode", "rows.1.result"}


def test_a_route_s_own_422_and_a_validation_422_have_one_shape(persona, client_for):
    lab = client_for(persona("lab"))
    later = "2999-01-01T10:00:00+08:00"
    rows = [{"barcode": "SAMPLE-0001", "result": "negative", "tested_at": later}]

    own = _error(
        lab.post(
            "/api/v1/testing/results",
            {"rows": rows},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        ),
        422,
    )

    assert own["code"] == "rows_invalid"
    assert own["errors"] == [
        {
            "field": "rows.0.tested_at",
            "row": 1,
            "column": "tested_at",
            "code": "time_future",
            "message": "The time is in the future.",
        }
    ]
    task = _error(
        lab.post(f"/api/v1/tasks/{ANY_TASK}/complete", {"outcome": "maybe"}, content_type="application/json"),
        422,
    )
    assert task["field"] == "outcome" and task["errors"][0]["row"] is None
