"""The real SMTP server on loopback of the notification tests, reused."""

from kith.notifications.tests.conftest import SmtpServer, refusing_smtp, smtp

__all__ = ["SmtpServer", "refusing_smtp", "smtp"]
