"""Liveness and readiness."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "up"}


@router.get("/readyz", responses={503: {"description": "store or log unreachable"}})
def readyz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    workers = getattr(request.app.state, "workers", None)
    for name, failure in workers.failed.items() if workers else ():
        checks[f"worker:{name}"] = f"stopped: {failure}"
    try:
        runtime.app.process_recorder.max_notification_id()
        checks["event_store"] = "ok"
    except Exception as error:  # readiness reports, it does not raise
        checks["event_store"] = f"unreachable: {type(error).__name__}"
    try:
        admin = runtime.log.admin()
        try:
            admin.partitions_for(runtime.topics.ingress[0])
        finally:
            admin.close()
        checks["log"] = "ok"
    except Exception as error:
        checks["log"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
