"""The embedded broker never hands a worker a half-written message, nor dies on a bad file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from smarter_team import fsbroker


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def connect(folder: Path) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    return Connection("filesystem://", transport=fsbroker.Transport, transport_options=options)


def test_messages_go_through_in_order(folder: Path) -> None:
    with connect(folder) as conn:
        queue = conn.SimpleQueue("crm")
        for n in range(3):
            queue.put({"n": n})
        got = [queue.get(timeout=1) for _ in range(3)]
        # Within one millisecond the file names order by a random suffix, as in kombu's own transport.
        assert sorted(m.payload["n"] for m in got) == [0, 1, 2]
        for message in got:
            message.ack()
        queue.close()
    # Nothing staged is left behind: every message was renamed into place.
    assert not list(folder.glob(".*"))


def test_a_message_being_written_is_invisible_to_readers(folder: Path, monkeypatch: Any) -> None:
    seen: list[list[str]] = []
    real_replace = fsbroker.os.replace

    def replace(src: str, dst: str) -> None:
        # What a reader polling at this instant would find: only the staged name.
        seen.append(sorted(p.name for p in folder.iterdir()))
        real_replace(src, dst)

    monkeypatch.setattr(fsbroker.os, "replace", replace)
    with connect(folder) as conn:
        conn.SimpleQueue("crm").put({"n": 1})
    assert len(seen) == 1 and all(name.startswith(".") for name in seen[0])
    assert all(name.partition(".")[2] != "crm.msg" for name in seen[0])


def test_an_undecodable_file_is_skipped_not_fatal(folder: Path, caplog: Any) -> None:
    (folder / "0_broken.crm.msg").write_bytes(b"")  # a file a crashed writer left empty
    with connect(folder) as conn, caplog.at_level(logging.ERROR, logger="smarter_team.fsbroker"):
        queue = conn.SimpleQueue("crm")
        queue.put({"n": 2})
        message = queue.get(timeout=1)
        assert message.payload == {"n": 2}
        message.ack()
        queue.close()
    assert not (folder / "0_broken.crm.msg").exists()
    assert "skipped an undecodable broker message on queue crm" in caplog.text


def test_the_embedded_default_uses_it() -> None:
    # The settings as `make run` loads them (no Redis, no broker URL), in a process of their own.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_SETTINGS_MODULE="smarter_team.settings", REDIS_URL="")
    code = "import django; django.setup(); from django.conf import settings as s; print(s.CELERY_BROKER_TRANSPORT)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "smarter_team.fsbroker:Transport"
