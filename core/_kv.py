"""A cheaper ``KeyValue.get`` for nats-py: same request, same answers, same errors.

Every scan reads KV about five times (the visitor's progress, then each plugin's
own records for its panel). nats-py reads the latest value of a key with one
JetStream API request (``STREAM.MSG.GET`` with ``last_by_subj``) and then spends
most of its time on the answer: ``json.loads``, a ``datetime`` parse of a time
nobody reads, and the standard library's e-mail parser for the message headers
(a KV entry written with ``update()`` carries one). :class:`FastGetKeyValue` sends
the same request and decodes the answer with msgspec, reading only the
``KV-Operation`` header: about 40 µs less CPU per read under load (docs/performance.md).

Reads by revision and buckets with direct gets (``allow_direct``) keep nats-py's
own code, and so does everything else a ``KeyValue`` does. If nats-py's internals
that this relies on are missing (another nats-py version), :func:`faster_gets`
hands the bucket back unchanged.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue

__all__ = ["FastGetKeyValue", "faster_gets"]

_OP_HEADER = KV_OP.encode()


class _StoredMsg(msgspec.Struct):
    subject: str
    seq: int
    hdrs: str | None = None
    data: str | None = None


class _MsgGetResponse(msgspec.Struct):
    message: _StoredMsg | None = None
    error: dict[str, Any] | None = None


_decode_response = msgspec.json.Decoder(_MsgGetResponse).decode


def _operation(headers: bytes) -> str | None:
    """The ``KV-Operation`` header of a stored message's raw NATS headers."""
    for line in headers.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip() == _OP_HEADER:
            return value.strip().decode()
    return None


class FastGetKeyValue(KeyValue):
    """nats-py's ``KeyValue`` whose ``get`` of a key's latest value decodes with msgspec."""

    async def _get(self, key: str, revision: int | None = None) -> KeyValue.Entry:
        if revision or self._direct:
            return await super()._get(key, revision)
        js: Any = self._js
        subject = f"{self._pre}{key}"
        try:
            msg = await js._nc.request(
                f"{js._prefix}.STREAM.MSG.GET.{self._stream}",
                msgspec.json.encode({"last_by_subj": subject}),
                timeout=js._timeout,
            )
        except nats.errors.NoRespondersError:
            raise nats.js.errors.ServiceUnavailableError from None
        answer = _decode_response(msg.data)
        if answer.error is not None:
            try:
                raise nats.js.errors.APIError.from_error(answer.error)
            except nats.js.errors.NotFoundError:
                raise nats.js.errors.KeyNotFoundError from None
        stored = answer.message
        if stored is None:
            raise nats.js.errors.APIError(description="no message in the answer")
        if stored.subject != subject:
            raise nats.js.errors.KeyNotFoundError(
                message=f"expected '{subject}', but got '{stored.subject}'"
            )
        entry = KeyValue.Entry(
            bucket=self._name,
            key=key,
            value=base64.b64decode(stored.data) if stored.data else None,
            revision=stored.seq,
            delta=None,
            created=None,
            operation=None,
        )
        if stored.hdrs:
            op = _operation(base64.b64decode(stored.hdrs))
            if op == KV_DEL or op == KV_PURGE:
                raise nats.js.errors.KeyDeletedError(entry, op)
        return entry


def faster_gets(kv: KeyValue) -> KeyValue:
    """The same bucket as a :class:`FastGetKeyValue` (or ``kv`` itself if this nats-py
    does not have the attributes it needs)."""
    js = getattr(kv, "_js", None)
    needed = ("_name", "_stream", "_pre", "_direct")
    if type(kv) is not KeyValue or js is None or not all(hasattr(kv, a) for a in needed):
        return kv
    if not all(hasattr(js, a) for a in ("_nc", "_prefix", "_timeout")):
        return kv
    return FastGetKeyValue(name=kv._name, stream=kv._stream, pre=kv._pre, js=js, direct=kv._direct)
