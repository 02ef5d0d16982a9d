"""The requirement catalog (data in *.toml beside this file)."""
from conformance.requirements.catalog import (DECLARED, ROLES, Control, Requirement, catalog_sha256, coverage,
                                              load_catalog, load_controls)

__all__ = ["DECLARED", "ROLES", "Control", "Requirement", "catalog_sha256", "coverage", "load_catalog",
           "load_controls"]
