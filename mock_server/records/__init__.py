"""Target records of one organization per tenant: catalog, fake data, store, import and export."""

from __future__ import annotations

from .catalog import Catalog, CatalogError, RecordType
from .csv_inputs import coerce_item, parse_csv
from .export_file import build_export, check_paths, render_rows
from .fake import DEFAULT_EPOCH, generate, generate_org, record_id
from .related import Related, resolver
from .store import DuplicateKey, RecordStore
from .validate import apply_parent, item_key, validate_item

__all__ = [
    "DEFAULT_EPOCH",
    "Catalog",
    "CatalogError",
    "DuplicateKey",
    "RecordStore",
    "RecordType",
    "Related",
    "apply_parent",
    "build_export",
    "check_paths",
    "coerce_item",
    "generate",
    "generate_org",
    "item_key",
    "parse_csv",
    "record_id",
    "render_rows",
    "resolver",
    "validate_item",
]
