"""The WSGI entry point: ``gunicorn wsgi:app``."""

from undersign import create_app

app = create_app()
