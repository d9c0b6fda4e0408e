"""The OpenAPI 3.1 description of the job server (served at ``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

from fabthread import __version__

_ERR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _json(ref: str, description: str = "ok") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _body(ref: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_JOB_ID = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_ORDER_ID = [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_HUB: list[dict[str, list[str]]] = [{"hubToken": []}]
_CLIENT: list[dict[str, list[str]]] = [{"clientToken": []}]


def openapi_spec() -> dict[str, Any]:
    errors = {"400": _ERR, "401": _ERR, "404": _ERR, "409": _ERR, "413": _ERR}
    return {
        "openapi": "3.1.0",
        "info": {"title": "fabthread job server", "version": __version__},
        "paths": {
            "/health": {
                "get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}
            },
            "/signing-key": {
                "get": {
                    "summary": "Ed25519 public key that signs bundles (base64, 32 raw bytes)",
                    "responses": {"200": _json("SigningKey")},
                }
            },
            "/status": {
                "get": {
                    "summary": "Hubs (state, queues, stock) and the client's recent orders",
                    "security": _CLIENT,
                    "responses": {"200": {"description": "ok"}, "401": _ERR},
                }
            },
            "/orders": {
                "post": {
                    "summary": "Submit an order; the bundle is built and routed in the background",
                    "security": _CLIENT,
                    "requestBody": _body("Submission"),
                    "responses": {
                        "202": _json("OrderView", "accepted (new order)"),
                        "200": _json("OrderView", "the same order was submitted before"),
                        **errors,
                    },
                },
                "get": {
                    "summary": "The client's orders, newest first",
                    "security": _CLIENT,
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                        {
                            "name": "before",
                            "in": "query",
                            "description": "created_at of the last order of the previous page",
                            "schema": {"type": "number"},
                        },
                    ],
                    "responses": {"200": {"description": "orders"}, "400": _ERR, "401": _ERR},
                },
            },
            "/orders/{order_id}": {
                "get": {
                    "summary": "Status of an order and its jobs",
                    "security": _CLIENT,
                    "parameters": _ORDER_ID,
                    "responses": {"200": _json("OrderView"), "401": _ERR, "404": _ERR},
                }
            },
            "/orders/{order_id}/events": {
                "get": {
                    "summary": "The order's event log, oldest first",
                    "security": _CLIENT,
                    "parameters": _ORDER_ID,
                    "responses": {"200": {"description": "events"}, "401": _ERR, "404": _ERR},
                }
            },
            "/jobs/claim": {
                "post": {
                    "summary": "Lease the oldest queued job routed to the token's hub",
                    "security": _HUB,
                    "requestBody": _body("Claim"),
                    "responses": {"200": _json("Job"), "204": {"description": "no work"}, **errors},
                }
            },
            "/jobs/{job_id}/heartbeat": {
                "post": {
                    "summary": "Extend the lease",
                    "security": _HUB,
                    "parameters": _JOB_ID,
                    "requestBody": _body("Lease"),
                    "responses": {"200": {"description": "lease extended"}, **errors},
                }
            },
            "/jobs/{job_id}/status": {
                "post": {
                    "summary": "Report accepted, printing, done or failed (idempotent; a done "
                    "after the lease expired is accepted if nobody re-claimed the job)",
                    "security": _HUB,
                    "parameters": _JOB_ID,
                    "requestBody": _body("Report"),
                    "responses": {"200": {"description": "recorded"}, **errors},
                }
            },
            "/jobs/{job_id}/bundle": {
                "get": {
                    "summary": "The job bundle zip; ETag is its sha256, X-Fabthread-Signature "
                    "the server's Ed25519 signature",
                    "security": _HUB,
                    "parameters": _JOB_ID
                    + [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "zip", "content": {"application/zip": {}}},
                        "304": {"description": "not modified"},
                        **errors,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "hubToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "fth_... from `fabthread hub token HUB_ID`",
                },
                "clientToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ftc_... from `fabthread hub token --client NAME`",
                },
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
                "SigningKey": {
                    "type": "object",
                    "properties": {
                        "algorithm": {"const": "ed25519"},
                        "public_key": {"type": "string"},
                    },
                },
                "Order": {
                    "type": "object",
                    "required": ["order_id", "design", "machine", "material", "color"],
                    "properties": {
                        "order_id": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                        },
                        "design": {"type": "string"},
                        "machine": {"type": "string"},
                        "material": {"type": "string"},
                        "color": {"type": "string"},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "params": {"type": "object"},
                        "preset": {"type": "string"},
                        "settings": {"type": "object"},
                    },
                    "additionalProperties": False,
                },
                "Submission": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Order"},
                        {
                            "type": "object",
                            "required": ["order"],
                            "properties": {
                                "order": {"$ref": "#/components/schemas/Order"},
                                "deliver_to": {
                                    "type": "object",
                                    "properties": {
                                        "lat_deg": {"type": "number"},
                                        "lon_deg": {"type": "number"},
                                    },
                                },
                            },
                        },
                    ]
                },
                "OrderView": {
                    "type": "object",
                    "properties": {
                        "order_id": {"type": "string"},
                        "status": {
                            "enum": [
                                "received",
                                "building",
                                "queued",
                                "in_progress",
                                "done",
                                "failed",
                                "rejected",
                            ]
                        },
                        "reason": {"type": "string"},
                        "bundle_sha256": {"type": ["string", "null"]},
                        "route": {"type": ["object", "null"]},
                        "jobs": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Claim": {
                    "type": "object",
                    "properties": {
                        "agent": {"type": "string"},
                        "machine": {"type": "string", "description": "machine profile id"},
                        "lease_s": {"type": "number"},
                    },
                },
                "Lease": {
                    "type": "object",
                    "required": ["lease_id"],
                    "properties": {"lease_id": {"type": "string"}, "lease_s": {"type": "number"}},
                },
                "Report": {
                    "type": "object",
                    "required": ["lease_id", "status"],
                    "properties": {
                        "lease_id": {"type": "string"},
                        "status": {"enum": ["accepted", "printing", "done", "failed"]},
                        "reason": {"type": "string"},
                        "machine": {"type": "string"},
                    },
                },
                "Job": {
                    "type": "object",
                    "properties": {
                        "job_id": {"type": "string"},
                        "order_id": {"type": "string"},
                        "machine": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "lease_id": {"type": "string"},
                        "lease_expires": {"type": "number"},
                        "bundle": {
                            "type": "object",
                            "properties": {
                                "url": {"type": "string"},
                                "sha256": {"type": "string"},
                                "size": {"type": "integer"},
                                "signature": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    }
