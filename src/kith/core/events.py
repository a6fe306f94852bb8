"""In-process domain events: services publish, other apps subscribe (in ``AppConfig.ready``).

Handlers run synchronously inside the publishing service's transaction, so whatever they
write commits or rolls back with the change that caused it. Events and their payloads:

- ``record.created`` / ``record.updated`` / ``record.deleted`` / ``record.restored``:
  ``record_id`` (``record.created`` and ``records.services.update_record``'s ``record.updated``
  also ``type_key``; that ``record.updated`` also ``changes``: field -> [old, new], the fields
  named as in history: ``name``, ``emails``, ``fields.KEY``)
- ``health.band_changed``: ``record_id``, ``type_key``, ``old``, ``new`` (bands), ``score``
- ``relationship.started`` / ``relationship.ended``: ``relationship_id``
- ``interaction.logged``: ``interaction_id``
- ``bulk.loaded``: ``counts`` (dict of table -> rows)
- ``records.imported``: ``created_ids``, ``updated_ids``, ``source`` (one per import batch,
  instead of one ``record.*`` event per row)
- ``stage.moved``: ``record_id``, ``pipeline``, ``from_stage`` (None when it entered the
  pipeline), ``to_stage``, ``change_id`` (``kith.pipelines``: every stage move)
- ``task.created`` / ``task.updated`` / ``task.done`` / ``task.reopened`` /
  ``task.cancelled`` / ``task.snoozed``: ``task_id`` (``kith.tasks``)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler, *, first: bool = False) -> None:
    """Call ``handler(**payload)`` whenever ``event`` is published (once per handler);
    ``first`` runs it before the handlers subscribed so far (a handler that completes the
    row others read, such as a derived sentiment, before they read it)."""
    if handler not in _handlers[event]:
        if first:
            _handlers[event].insert(0, handler)
        else:
            _handlers[event].append(handler)


def publish(event: str, **payload: Any) -> None:
    """Run every handler of ``event`` now, inside the caller's transaction."""
    for handler in list(_handlers.get(event, ())):
        handler(**payload)
