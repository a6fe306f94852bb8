"""The web app: server-rendered pages (Jinja2 + htmx) over the services and selectors."""
