"""The browser assets taken from npm packages (api/console/assets.json pins them;
scripts/console_assets.sh copies them, licences kept, into ``vendor/``): where they are and
whether they are all there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
MANIFEST = HERE / "assets.json"
VENDOR = HERE / "vendor"
STATIC = HERE / "static"
FETCH_HINT = "bash scripts/console_assets.sh"


@dataclass(frozen=True)
class Assets:
    """The vendored files under ``root``, served at ``/console/vendor``."""

    root: Path

    def missing(self) -> list[str]:
        """Files the manifest names that are not under ``root`` (empty: all there)."""
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return [
            f"{name}/{target}"
            for name, asset in manifest.items()
            for target in asset["files"].values()
            if not (self.root / name / target).is_file()
        ]

    @property
    def ready(self) -> bool:
        return not self.missing()
