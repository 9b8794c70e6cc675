"""One module per Zoho product: its wire format mapped to canonical job states.

Every provider offers the same few calls (see base.Provider); adding a product is one new
module and one line in `provider_for`.
"""

from __future__ import annotations

from zsync.http.session import ZohoSession
from zsync.providers.analytics import AnalyticsExportProvider
from zsync.providers.base import Provider
from zsync.providers.bulk_read import BulkReadProvider
from zsync.providers.creator import CreatorExportProvider
from zsync.spec.model import AnalyticsExport, BulkReadExport, Export


def provider_for(session: ZohoSession, export: Export) -> Provider:
    if isinstance(export, AnalyticsExport):
        return AnalyticsExportProvider(session, export)
    if isinstance(export, BulkReadExport):
        return BulkReadProvider(session, export)
    return CreatorExportProvider(session, export)
