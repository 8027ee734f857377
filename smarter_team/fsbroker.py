"""The embedded broker: kombu's filesystem transport, made safe for a worker that polls quickly.

kombu's own ``_put`` creates the message file and then writes it, so a worker polling at that
moment moves an empty file away and fails to decode it; the error escapes the consumer loop and
the worker exits (seen on ``make run``: the whole agency stopped). Here a message is written under
a name no reader takes and renamed into place (atomic on POSIX), and a file that still cannot be
decoded (a disk fault) is logged and skipped instead of killing the worker: its run is still a
queued row, which the dispatcher publishes again.
"""

from __future__ import annotations

import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)

# How many undecodable files one poll skips before it reports the queue empty for this round.
MAX_SKIPPED = 8


class Channel(filesystem.Channel):
    # kombu-stubs disagree between the abstract channel and the filesystem one; this is the latter.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: kombu's reader matches "<anything>.<queue>.msg" after the first dot, which
        # this name does not give it ("" before the dot), so a half-written file is never taken.
        staging = os.path.join(self.data_folder_out, f".{name}.part")
        with open(staging, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(staging, final)

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        for _ in range(MAX_SKIPPED):
            try:
                return super()._get(queue)
            except ValueError as exc:  # the file is already gone: its row gets published again
                logger.error("skipped an undecodable broker message on queue %s (%s)", queue, type(exc).__name__)
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
