"""Placeholder blueprint; filled in by its own change."""

from flask import Blueprint

bp = Blueprint("applicant", __name__, url_prefix="/s")
