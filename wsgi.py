"""WSGI entry point: `gunicorn wsgi:app`."""
from kindcity import create_app

app = create_app()
