"""The marketplace operator's side at /operator: vendors, observed runs, issued (signed)
verifications, the public catalog of verified solutions and the public verification endpoint.

All state lives in the platform database through the storage's kv methods (see records.py).
"""
from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator", template_folder="templates")

from mock_platform.operator import console, views  # noqa: E402,F401  (register the routes on bp)
