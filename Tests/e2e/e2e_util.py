"""Small helpers shared by the e2e test modules."""

from __future__ import annotations

import queue

import grpc

# Deadline for every RPC the suite makes (seconds).
RPC_TIMEOUT = 10.0


def parse_target(target: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' -> (host, port)."""
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"target must be host:port, got {target!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def zeros(n: int) -> bytes:
    return b"\0" * n


def code_name(code) -> str:
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class RequestStream:
    """Request iterator for streaming calls, fed from the test thread.

    grpcio consumes it on its own thread; ``close()`` half-closes. Every wait is
    bounded so a forgotten stream cannot hang the suite.
    """

    _END = object()

    def __init__(self, max_wait: float = 3 * RPC_TIMEOUT):
        self._queue: queue.Queue = queue.Queue()
        self._max_wait = max_wait

    def send(self, message) -> None:
        self._queue.put(message)

    def close(self) -> None:
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            item = self._queue.get(timeout=self._max_wait)
        except queue.Empty:
            raise StopIteration from None
        if item is self._END:
            # keep returning END for any later pull
            self._queue.put(self._END)
            raise StopIteration
        return item


def metadata_pairs(md) -> list[tuple[str, object]]:
    return [(m[0], m[1]) for m in (md or ())]


def expect_rpc_error(what: str, fn, *args, expected=None, **kwargs):
    """Call fn; fail with a clear message unless it raises grpc.RpcError.

    ``expected``: a grpc.StatusCode or a tuple of them the error must carry.
    Returns the grpc.RpcError.
    """
    try:
        result = fn(*args, **kwargs)
        if hasattr(result, "__next__"):  # streaming response: drain it
            result = list(result)
    except grpc.RpcError as err:
        if expected is not None:
            allowed = expected if isinstance(expected, tuple) else (expected,)
            assert err.code() in allowed, (
                f"{what}: got status {code_name(err.code())} ({err.details()!r}), "
                f"expected {' or '.join(c.name for c in allowed)}")
        return err
    text = repr(result)
    if len(text) > 200:
        text = text[:200] + "..."
    want = "an error status" if expected is None else (
        " or ".join(c.name for c in (expected if isinstance(expected, tuple) else (expected,))))
    raise AssertionError(f"{what}: call succeeded (response {text}), expected {want}")
