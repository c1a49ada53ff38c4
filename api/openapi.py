"""The API's OpenAPI document for integrators: `export(path)` writes it (committed as docs/openapi.json).

The document depends on the code only: the app is built on an in-memory SQLite engine that is
never connected, with the reference bundle that the command handler needs to be constructed, and
a photo store that is never written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from api.app import create_app
from api.identity import Identity, LoginPolicy
from api.services import Services
from router.bundle import load_bundle
from router.photos import PhotoLimits, Photos
from router.store.database import make_engine
from router.store.photo_files import DirectoryFiles
from schemas.topics import Topics

REFERENCE_BUNDLE = Path(__file__).resolve().parents[1] / "jurisdictions" / "xiaoshan"


def document(bundle: Path = REFERENCE_BUNDLE) -> dict:
    """The OpenAPI document `create_app` serves at /api/v1/openapi.json."""
    engine = make_engine("sqlite://")
    try:
        jurisdiction = load_bundle(bundle)
        services = Services.build(engine, jurisdiction, Topics(), Identity(engine.begin, LoginPolicy()),
                                  lambda: datetime.now(UTC), Photos(DirectoryFiles(Path("unused")), engine.begin,
                                                                    PhotoLimits()))
        return create_app(services).openapi()
    finally:
        engine.dispose()


def render(bundle: Path = REFERENCE_BUNDLE) -> str:
    return json.dumps(document(bundle), ensure_ascii=False, indent=2) + "\n"


def export(path: Path, bundle: Path = REFERENCE_BUNDLE) -> Path:
    """Write the document to `path` (UTF-8, Chinese kept readable); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(bundle), encoding="utf-8")
    return path
