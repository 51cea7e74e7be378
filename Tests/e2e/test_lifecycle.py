"""Connection lifecycle: keepalive, ping enforcement, graceful shutdown.

The keepalive and ping tests use the shared server (started by Scripts/test with a 1 s
keepalive interval). The shutdown tests start servers of their own from
``$MARKETPLACE_SERVER_BIN``, since they stop them.
"""

from __future__ import annotations

import re
import signal
import time

import grpc
import h2.errors
import pytest

from e2e_util import RPC_TIMEOUT
from h2raw import RawH2Connection, grpc_frame


def test_server_pings_a_quiet_connection(target):
    """A connection that says nothing gets a keepalive PING (interval 1 s in Scripts/test)."""
    host, port = target.rsplit(":", 1)
    with RawH2Connection(host, int(port)) as raw:
        raw.wait_for(lambda: raw.pings_received > 0, timeout=5, what="a keepalive PING")
        assert raw.pings_received > 0
        assert not raw.closed, "answering the PING must keep the connection open"


def test_ping_flood_gets_goaway_enhance_your_calm(target):
    """Pings with no traffic in between, faster than the policy allows: GOAWAY ENHANCE_YOUR_CALM."""
    host, port = target.rsplit(":", 1)
    with RawH2Connection(host, int(port)) as raw:
        for i in range(6):
            try:
                raw.ping(b"flood%03d" % i)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server already sent GOAWAY and closed: the rest of the flood has nowhere to go
        raw.wait_for(lambda: raw.goaway is not None, timeout=5, what="GOAWAY")
        assert raw.goaway is not None, "expected GOAWAY after a ping flood"
        assert raw.goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
        assert raw.goaway.additional_data == b"too_many_pings"


def streaming_call_pausing(pb, port: int, pause_us: int):
    """A server-streaming call whose second response comes after a pause."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    request = pb.messages_pb2.StreamingOutputCallRequest(response_parameters=[
        pb.messages_pb2.ResponseParameters(size=10),
        pb.messages_pb2.ResponseParameters(size=20, interval_us=pause_us),
    ])
    return channel, stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT)


def test_idle_connection_gets_goaway_but_not_while_a_call_runs(own_server, pb):
    server = own_server("--idle-timeout-seconds", "1")
    m = pb.messages_pb2
    # A call that outlasts the idle timeout (a 2 s pause between its responses) keeps its connection.
    request = m.StreamingOutputCallRequest(response_parameters=[
        m.ResponseParameters(size=10), m.ResponseParameters(size=20, interval_us=2_000_000)])
    with RawH2Connection("127.0.0.1", server.port) as raw:
        response = raw.call("/grpc.testing.TestService/StreamingOutputCall",
                            grpc_frame(request.SerializeToString()), timeout=RPC_TIMEOUT)
        assert response.grpc_status == 0, response.describe()
        assert raw.goaway is None, "GOAWAY while a call was running"
        # Quiet from now on: GOAWAY (NO_ERROR) once the idle time has passed since the call ended.
        ended = time.monotonic()
        raw.wait_for(lambda: raw.goaway is not None, timeout=10, what="GOAWAY on an idle connection")
        assert raw.goaway.error_code == h2.errors.ErrorCodes.NO_ERROR
        assert time.monotonic() - ended >= 0.8, "GOAWAY came before the idle time"


def test_sigterm_lets_calls_in_flight_finish(own_server, pb):
    server = own_server("--shutdown-grace-seconds", "10")
    channel, call = streaming_call_pausing(pb, server.port, pause_us=1_500_000)
    first = next(call)
    assert len(first.payload.body) == 10
    server.proc.send_signal(signal.SIGTERM)
    rest = list(call)  # the call in flight still completes
    assert [len(r.payload.body) for r in rest] == [20]
    assert call.code() == grpc.StatusCode.OK
    assert server.proc.wait(timeout=15) == 0, "".join(server.log)
    assert any("shutting down" in line for line in server.log)
    channel.close()


def test_sigterm_refuses_new_connections_then_exits(own_server, pb):
    server = own_server()
    assert server.terminate_and_wait() == 0, "".join(server.log)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.EmptyCall(pb.empty_pb2.Empty(), timeout=2)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()


def test_grace_period_over_cancels_calls_and_exits_zero(own_server, pb):
    server = own_server("--shutdown-grace-seconds", "1")
    channel, call = streaming_call_pausing(pb, server.port, pause_us=8_000_000)
    next(call)
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    with pytest.raises(grpc.RpcError):
        list(call)
    assert server.proc.wait(timeout=15) == 0, "".join(server.log)
    assert time.monotonic() - started < 6, "the grace period (1 s) bounds the shutdown"
    channel.close()


def vm_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_reader_does_not_make_the_server_buffer(own_server, pb):
    """A client that stops reading a server stream: the server waits, it does not queue."""
    server = own_server()
    count, size = 40, 1_000_000
    request = pb.messages_pb2.StreamingOutputCallRequest(
        response_parameters=[pb.messages_pb2.ResponseParameters(size=size) for _ in range(count)])
    with RawH2Connection("127.0.0.1", server.port, window=65535) as raw:
        raw.call("/grpc.testing.TestService/EmptyCall", b"\0\0\0\0\0")  # warm up
        before = vm_rss_kb(server.proc.pid)
        sid = raw.start("/grpc.testing.TestService/StreamingOutputCall")
        raw.send(sid, grpc_frame(request.SerializeToString()), end_stream=True)
        time.sleep(2)  # the client reads nothing; 40 MB of responses wait on the server's side
        grown = vm_rss_kb(server.proc.pid) - before
        assert grown < 16_000, f"server grew by {grown} kB while the client did not read"
        response = raw.wait(sid, timeout=60)  # now read it all
    assert response.grpc_status == 0, response.describe()
    bodies = [pb.messages_pb2.StreamingOutputCallResponse.FromString(m.raw).payload.body for m in response.messages()]
    assert [len(b) for b in bodies] == [size] * count


def test_fast_sender_to_a_stalled_handler_is_held_back(own_server, pb):
    """A client streaming requests to a handler that cannot keep up (it waits to send its answers,
    which the client does not read) is held back by flow control: the server does not queue
    what it has not taken."""
    server = own_server()
    message = pb.messages_pb2.SimpleRequest(response_size=1_000_000, payload=pb.messages_pb2.Payload(body=b"\0" * 100_000))
    frame = grpc_frame(message.SerializeToString())
    with RawH2Connection("127.0.0.1", server.port, window=65535, ack_data=False) as raw:
        raw.call("/grpc.testing.TestService/EmptyCall", b"\0\0\0\0\0")  # warm up
        before = vm_rss_kb(server.proc.pid)
        sid = raw.start("/grpc.testing.BenchmarkService/StreamingCall")
        sent = 0
        try:
            for _ in range(300):  # 30 MB, if the server took it all
                raw.send(sid, frame, timeout=0.5)
                sent += 1
        except TimeoutError:
            pass  # the window closed: what we expect
        grown = vm_rss_kb(server.proc.pid) - before
        assert sent < 300, "the server kept reading requests its handler had not taken"
        assert grown < 16_000, f"server grew by {grown} kB"


def test_access_log_is_on_by_default_and_flushed_at_shutdown(own_server, pb):
    """Started with no logging flags, the server writes one line per RPC (batched off the call
    path), and SIGTERM writes the last of them before the process ends."""
    server = own_server()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        for _ in range(25):
            stub.EmptyCall(pb.empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        with pytest.raises(grpc.RpcError):
            stub.UnimplementedCall(pb.empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert server.terminate_and_wait() == 0, "".join(server.log)
    lines = [line for line in server.log if line.rstrip().endswith("[HTTP2Transport] rpc")]
    ok = [line for line in lines if "rpc.method=/grpc.testing.TestService/EmptyCall rpc.status=OK" in line]
    assert len(ok) == 25, "".join(lines)
    assert any("rpc.method=/grpc.testing.TestService/UnimplementedCall rpc.status=UNIMPLEMENTED" in line
               for line in lines), "".join(lines)
    assert all(" info marketplace: peer.address=ipv4:127.0.0.1:" in line for line in lines), "".join(lines)
    stopped = [line for line in server.log if "stopped" in line and "access_log_lines_dropped=0" in line]
    assert stopped, "".join(server.log[-5:])


def test_mimalloc_serves_every_malloc(own_server):
    """The server is linked with mimalloc, and the dynamic linker bound the process's `malloc` to it
    (the server checks a block `malloc` returned), not glibc's."""
    server = own_server()
    lines = [line for line in server.log if line.rstrip().endswith("memory allocator")]
    assert len(lines) == 1, "".join(server.log)
    assert re.search(r" allocator=mimalloc \d+\.\d+\.\d+ ", lines[0]), lines[0]
    with open(f"/proc/{server.proc.pid}/maps") as maps:
        assert "libmimalloc.so" in maps.read()
