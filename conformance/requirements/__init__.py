"""The requirement catalog (data in *.toml beside this file)."""
from conformance.requirements.catalog import Requirement, catalog_sha256, load_catalog

__all__ = ["Requirement", "catalog_sha256", "load_catalog"]
