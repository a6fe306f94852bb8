"""Django settings module for tools that want one (pytest-django, mypy, manage commands).

The database comes from ``KITH_DB`` like everywhere else; see :mod:`kith.conf`.
"""

from kith.conf import django_settings, resolve_db_url

globals().update(django_settings(resolve_db_url(), server=True))
