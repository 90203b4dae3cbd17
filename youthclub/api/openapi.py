"""The OpenAPI document, assembled from the ``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS`` of each API module."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "youthclub API",
        "version": "1.0.0",
        "description": "Sign-ups, check-ins and statistics for Hotspot Nørrebro. "
        "Authenticate with the session cookie plus an X-CSRFToken header, or a personal API token.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        "additionalProperties": True,
                    }
                },
            }
        },
    },
    "security": [{"bearer": []}, {"session": []}],
}

CORE_PATHS = {
    "/me": {
        "get": {
            "summary": "Who the API sees you as",
            "responses": {
                "200": {
                    "description": "The authenticated user",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": {"description": "Not authenticated", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
    },
}


def build_document() -> dict:
    import copy

    from .. import api as api_pkg

    doc = copy.deepcopy(BASE)
    doc["paths"] = dict(CORE_PATHS)
    for info in sorted(pkgutil.iter_modules(api_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{api_pkg.__name__}.{info.name}")
        doc["paths"].update(getattr(module, "OPENAPI_PATHS", {}))
        doc["components"]["schemas"].update(getattr(module, "OPENAPI_SCHEMAS", {}))
    _add_common_responses(doc)
    return doc


#: answers any operation may give, whatever its module documents
COMMON_RESPONSES = {
    "400": "Malformed request: unreadable JSON or query, or (with the session cookie) a missing X-CSRFToken header",
    "401": "Not authenticated, or the session or token has expired",
    "429": "Too many requests: wait (see Retry-After) and try again",
}


def _add_common_responses(doc: dict) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in COMMON_RESPONSES.items():
                if code == "401" and path == "/openapi.json":
                    continue
                responses.setdefault(code, {"description": description, "content": error})
