"""Placeholder blueprint; filled in by its own change."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")
