"""OpenAPI post-processing: the error answers every operation can give, so that clients (and the schemathesis
run in tests/api/test_schema.py) see every status code the API sends.

drf-spectacular documents successes and what a view declares with ``extend_schema``; the answers DRF gives
before or around a view (refused permission, unknown object, bad page, invalid filter) come from this hook,
decided from the operation itself: a body or filter parameters mean input that can be invalid (400), a
security requirement means a refusal (403), a path parameter or a page means a miss (404). A view's own
declaration of a code always wins.
"""

from __future__ import annotations

PAGING = {"page", "cursor", "page_size"}
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
FIELD_ERRORS = {
    "type": "object",
    "description": "Each invalid field or parameter (or non_field_errors) with its messages.",
    "additionalProperties": True,
}


def _answer(description: str, schema_name: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _errors_of(path: str, operation: dict) -> dict:
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    anonymous = {} in operation.get("security", [{}])
    errors = {}
    if "requestBody" in operation or query - PAGING - {"format", "lang"}:
        errors["400"] = _answer("Invalid input: each field or parameter with what is wrong.", "FieldErrors")
    if not anonymous:
        errors["403"] = _answer("Not logged in (no session or token, or an invalid token), or the user's role "
                                "lacks the permission.", "Detail")
    if "{" in path or query & PAGING:
        errors["404"] = _answer("No such object (or a withdrawn participant's), or no such page.", "Detail")
    return errors


def add_error_responses(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS entry: adds the error answers an operation does not declare itself."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Detail", DETAIL)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, answer in _errors_of(path, operation).items():
                responses.setdefault(code, answer)
    return result
