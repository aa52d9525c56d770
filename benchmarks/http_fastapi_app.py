"""The service a portal team would otherwise write: FastAPI + uvicorn around the Python module's
check_json, on the same route as `preflight serve`. Used by benchmarks/http_bench.sh only.

    PREFLIGHT_SNAPSHOT=build/bench-data/base/xml python3 -m uvicorn --app-dir benchmarks \
        http_fastapi_app:app --host 127.0.0.1 --port 8081 --no-access-log
"""
from __future__ import annotations

import json
import os

import preflight
from fastapi import FastAPI, Request
from fastapi.responses import Response

engine = preflight.Engine.load(os.environ["PREFLIGHT_SNAPSHOT"])
app = FastAPI()


@app.get("/readyz")
async def ready() -> Response:
    return Response('{"status":"ready"}', media_type="application/json")


@app.post("/identityiq/scim/v2/CheckedPolicyViolations")
async def check(request: Request) -> Response:
    body = await request.body()
    try:
        return Response(engine.check_json(body.decode()), media_type="application/scim+json")
    except preflight.PreflightError as e:
        return Response(json.dumps(e.scim_error()), status_code=400, media_type="application/scim+json")
