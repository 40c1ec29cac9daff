"""Entry point for Celery workers and beat (part of the composition root, beside app.py):

celery -A worker worker -Q documents,mail --concurrency 2
celery -A worker beat
"""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
