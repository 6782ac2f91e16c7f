"""ASGI entry point for uvicorn: `clinic.main:app`."""

from clinic.app import create_app

app = create_app()
