"""Mock HelseID authorization server (discovery, JWKS, token endpoint) at /helseid."""
from flask import Blueprint

bp = Blueprint("helseid", __name__, url_prefix="/helseid")
