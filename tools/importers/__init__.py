"""Importers of real data sets (docs/data.md): each maps its rows to source events and
publishes them through the runtime's publisher, like any channel would.

``run_import(outlet, kind, folder, limit, progress) -> ImportSummary`` is the entry point;
``kind`` is one of ``KINDS`` (olist, cfpb, servicenow). One module per data set; the shared
pieces: steps and journeys (``steps``), the case rules importers respect (``cases``), time
formats (``times``), files (``files``), event-time order in bounded memory (``timeorder``)
and the summary. ``progress(done, total)`` is the caller's (``journey import`` draws it).
"""

from tools.importers.files import ImportFailed
from tools.importers.pipeline import KINDS, run_import
from tools.importers.summary import ImportSummary

__all__ = ["KINDS", "ImportFailed", "ImportSummary", "run_import"]
