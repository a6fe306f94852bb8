"""JSON API for tasks and keep-in-touch cadences."""

from ninja import Router

router = Router(tags=["tasks"])
