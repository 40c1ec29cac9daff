"""Placeholder blueprint; filled in by its own change."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/dashboard/submissions")
