"""Rejected messages go to a dead-letter topic, so nothing an agent sent disappears unseen."""

from __future__ import annotations

import base64
import json

from idleshare.wire import DEADLETTER_TOPIC

TOPIC = DEADLETTER_TOPIC
#: Characters (or bytes, before base64) of the rejected payload kept in the dead letter.
MAX_PAYLOAD = 4096


def encode(reason: str, detail: str, topic: str, payload: bytes | bytearray, time: float) -> bytes:
    """``{reason, detail, topic, payload, encoding, size, truncated, time}`` as JSON; the
    payload is text when it is UTF-8, else base64 (``encoding`` says which)."""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
        truncated = len(text) > MAX_PAYLOAD
        text = text[:MAX_PAYLOAD]
    except UnicodeDecodeError:
        truncated = len(payload) > MAX_PAYLOAD
        text, encoding = base64.b64encode(payload[:MAX_PAYLOAD]).decode(), "base64"
    return json.dumps({
        "reason": reason, "detail": detail[:1000], "topic": topic[:1000], "payload": text,
        "encoding": encoding, "size": len(payload), "truncated": truncated, "time": time,
    }).encode()
