"""The FastAPI service (`lettrage serve`): the links guests open, PSP notifications, Twilio
callbacks, the split-bill page, the payments API. Another router (the staff dashboard) is added
with `app.include_router(...)`. The service uses the operational store, never the warehouse.
"""

from __future__ import annotations

from fastapi import FastAPI

from lettrage.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    # Loaded now (pandas comes with the hotels' file reader), not by the first guest's notification.
    import lettrage.paylinks.outbox  # noqa: F401
    import lettrage.recon.hotels  # noqa: F401
    from lettrage.paylinks import store
    from lettrage.service import dashboard, links, notifications, payments_api, sms, split

    settings = settings or load_settings()
    app = FastAPI(title="lettrage", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.sessions = store.session_factory(settings.ops_store_url)
    for module in (links, split, notifications, sms, payments_api):
        app.include_router(module.router)
    app.include_router(dashboard.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    return app
