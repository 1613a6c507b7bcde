"""The OpenAPI document describes what each route accepts: no two different schemas share a
name (the components table would keep one of them for both), and each route's documented enums
are the ones it validates (issue 10.10b)."""

import re
import typing

import pydantic
import pytest
from django.test import Client
from ninja.openapi.schema import REF_TEMPLATE, NinjaGenerateJsonSchema

from epigrid.api import api


def _operations():
    """(openapi path, method, operation) for every route, paths as the document names them."""
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            full = "/api/v1/" + "/".join(p for p in (bound.prefix, path) if p)
            full = re.sub(r"{[^}:]+:", "{", re.sub(r"/+", "/", full))
            for operation in view.operations:
                for method in operation.methods:
                    yield full, method.lower(), operation


def _models(annotation):
    origin = typing.get_origin(annotation)
    if origin is not None:
        for argument in typing.get_args(annotation):
            yield from _models(argument)
    elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation)


def test_no_two_different_schemas_share_a_name():
    by_name: dict[str, set[str]] = {}
    for _, _, operation in _operations():
        for model in [*operation.models, *operation.response_models.values()]:
            for found in _models(model):
                if getattr(found, "__ninja_param_source__", None) is None:  # ninja's own wrappers
                    by_name.setdefault(found.__name__, set()).add(f"{found.__module__}.{found.__qualname__}")
    shared = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert shared == {}


def _resolve(node, definitions: dict, seen=()):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return {"$ref": name}
            return _resolve(definitions[name], definitions, (*seen, name))
        return {
            k: _resolve(v, definitions, seen) for k, v in node.items() if k not in ("title", "description")
        }
    if isinstance(node, list):
        return [_resolve(v, definitions, seen) for v in node]
    return node


def _enums(node, path="") -> dict[str, list]:
    found = {}
    if isinstance(node, dict):
        if "enum" in node:
            found[path] = sorted(map(str, node["enum"]))
        if "const" in node:
            found[path] = [str(node["const"])]
        for key, value in node.items():
            found.update(_enums(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.update(_enums(value, f"{path}/{i}"))
    return found


def _accepted_body(operation):
    bodies = [m for m in operation.models if m.__ninja_param_source__ == "body"]
    if not bodies:
        return None
    schema = bodies[0].model_json_schema(
        ref_template="#/$defs/{model}", by_alias=True, schema_generator=NinjaGenerateJsonSchema
    )
    (body,) = schema["properties"].values()
    return _resolve(body, schema.get("$defs", {}))


@pytest.fixture(scope="module")
def document():
    return Client().get("/api/v1/openapi.json").json()


def test_each_route_documents_the_enums_it_accepts(document, db):
    components = document["components"]["schemas"]
    assert REF_TEMPLATE.startswith("#/components/schemas/")
    compared = 0
    for path, method, operation in _operations():
        accepted = _accepted_body(operation)
        if accepted is None:
            continue
        documented = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert _enums(_resolve(documented, components)) == _enums(accepted), f"{method.upper()} {path}"
        compared += 1
    assert compared > 20


def test_the_task_completion_documents_the_task_outcomes(document):
    from epigrid.tasks import services

    body = document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["requestBody"]
    schema = _resolve(body["content"]["application/json"]["schema"], document["components"]["schemas"])
    assert sorted(schema["properties"]["outcome"]["enum"]) == sorted(services.OUTCOMES)
