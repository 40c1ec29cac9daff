"""Entry point for Celery workers and beat:

celery -A jobs.worker worker -Q documents,mail --concurrency 2
celery -A jobs.worker beat
"""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
