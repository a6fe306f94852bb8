"""Uploads too big for memory are spooled to Kith's private scratch folder in the data
directory (0700), not the shared /tmp: a worker killed mid-upload or mid-import leaves its
copy of someone's contacts there, where the next import sweeps it away."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

from kith.imports.scratch import scratch_root


class ScratchUploadedFile(UploadedFile):
    """An uploaded file spooled to a temporary file in the scratch folder."""

    def __init__(
        self,
        name: str,
        content_type: str,
        size: int,
        charset: str | None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> None:
        _, ext = os.path.splitext(name)
        # closed (and so removed) by Django when the request ends, as its own spooled files
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            suffix=".upload" + ext[:20], dir=scratch_root()
        )
        self.spooled = file
        super().__init__(file, name, content_type, size, charset, content_type_extra)

    def temporary_file_path(self) -> str:
        return str(self.spooled.name)

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):  # already moved or removed
            self.spooled.close()


class ScratchUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file upload handler, writing to the scratch folder."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = ScratchUploadedFile(  # type: ignore[assignment]
            self.file_name or "upload",
            self.content_type or "application/octet-stream",
            0,
            self.charset,
            self.content_type_extra,
        )
