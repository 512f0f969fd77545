"""The web console (``handover serve``): FastAPI pages rendered on the server with Jinja2,
htmx for partial updates, and a JSON API under ``/api`` — an adapter over the same library
calls and the same ``authorize`` as the CLI (docs/console.md).

Import :func:`handover.web.app.create_app`; this package itself imports nothing heavy.
"""
