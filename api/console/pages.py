"""Mounts the console and the API's documentation pages on the FastAPI app: ``/`` the
console's page, ``/console/static`` its own scripts and styles, ``/console/vendor`` the
npm packages' files, ``/docs`` Swagger UI and ``/redoc`` ReDoc from those files. Without
the vendored files the service still starts; these pages then say how to fetch them."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console.assets import FETCH_HINT, STATIC, Assets

VENDOR_URL = "/console/vendor"
STATIC_URL = "/console/static"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _missing_page(assets: Assets) -> HTMLResponse:
    missing = "".join(f"<li><code>{escape(m)}</code></li>" for m in assets.missing())
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Assets missing</title>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>"
        "<h1>The console's browser assets are missing</h1>"
        f"<p>Run <code>{FETCH_HINT}</code> in the project folder (<code>make run</code> does"
        " it), then reload. The JSON API works without them.</p>"
        f"<p>Missing under <code>{escape(str(assets.root))}</code>:</p><ul>{missing}</ul>",
        status_code=503,
    )


def install(app: FastAPI, assets: Assets) -> None:
    """Adds the console and the documentation pages to ``app`` (created with
    ``docs_url=None, redoc_url=None``)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-static")
    app.mount(VENDOR_URL, StaticFiles(directory=assets.root, check_dir=False), name="vendor")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/", include_in_schema=False)
    async def console() -> Response:
        if not assets.ready:
            return _missing_page(assets)
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> Response:
        if not assets.ready:
            return _missing_page(assets)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{VENDOR_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR_URL}/swagger-ui/favicon-32x32.png",
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        if not assets.ready:
            return _missing_page(assets)
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{VENDOR_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
