"""WSGI entry point: ``kith.server.wsgi:application`` (Django configured on ``KITH_DB``)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kith.settings")

application = get_wsgi_application()
