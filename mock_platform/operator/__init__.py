"""The marketplace operator's side: verified-solutions catalog and verification endpoint at /operator."""
from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")
