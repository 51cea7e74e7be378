"""Fixtures for the end-to-end gRPC interop suite.

Server under test: ``--target host:port`` or ``$MARKETPLACE_E2E_TARGET``
(cleartext HTTP/2, prior knowledge). Missing target => usage error, not skip.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True

import grpc  # noqa: E402
import pytest  # noqa: E402

import e2e_stubs  # noqa: E402
from e2e_util import RPC_TIMEOUT, parse_target  # noqa: E402

TARGET_ENV = "MARKETPLACE_E2E_TARGET"
SERVER_BIN_ENV = "MARKETPLACE_SERVER_BIN"

# grpc-core channel options: no proxy from the environment, no retries that would
# mask the server's first answer.
CHANNEL_OPTIONS = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.enable_retries", 0),
]


def pytest_addoption(parser):
    parser.addoption(
        "--target",
        action="store",
        default=None,
        help=f"host:port of the gRPC server under test (h2c). Defaults to ${TARGET_ENV}.",
    )


def _resolve_target(config) -> str | None:
    return config.getoption("--target") or os.environ.get(TARGET_ENV) or None


def pytest_configure(config):
    if config.option.collectonly or getattr(config.option, "help", False):
        return
    target = _resolve_target(config)
    if not target:
        raise pytest.UsageError(
            f"no server to test: set {TARGET_ENV}=host:port or pass --target host:port"
        )
    try:
        parse_target(target)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    out_dir = Path(tempfile.mkdtemp(prefix="marketplace-e2e-stubs-"))
    config._e2e_stub_dir = out_dir
    try:
        e2e_stubs.generate(out_dir)
        config._e2e_pb = e2e_stubs.load(out_dir)
    except Exception as exc:  # noqa: BLE001 - turn into a loud usage error
        raise pytest.UsageError(f"could not generate gRPC stubs: {exc}") from exc


def pytest_unconfigure(config):
    out_dir = getattr(config, "_e2e_stub_dir", None)
    if out_dir is not None:
        shutil.rmtree(out_dir, ignore_errors=True)


def pytest_report_header(config):
    return f"e2e target: {_resolve_target(config)}"


@pytest.fixture(scope="session")
def target(pytestconfig) -> str:
    value = _resolve_target(pytestconfig)
    if not value:
        pytest.fail(f"no server to test: set {TARGET_ENV} or pass --target")
    return value


@pytest.fixture(scope="session")
def host_port(target) -> tuple[str, int]:
    return parse_target(target)


@pytest.fixture(scope="session", autouse=True)
def _target_reachable(target, host_port):
    """Fail every test at once (cached session-fixture error) if nothing listens at the target."""
    try:
        socket.create_connection(host_port, timeout=RPC_TIMEOUT).close()
    except OSError as exc:
        pytest.fail(f"cannot connect to {target}: {exc} (is the server running?)", pytrace=False)


@pytest.fixture(scope="session")
def pb(pytestconfig):
    """Namespace of generated modules (test_pb2, messages_pb2, health_pb2, ...)."""
    return pytestconfig._e2e_pb


def _open_channel(target: str, **kwargs) -> grpc.Channel:
    channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS, **kwargs)
    try:
        grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT)
    except grpc.FutureTimeoutError:
        channel.close()
        pytest.fail(f"could not connect to {target} within {RPC_TIMEOUT}s (is the server running?)")
    return channel


@pytest.fixture(scope="session")
def channel(target):
    ch = _open_channel(target)
    yield ch
    ch.close()


@pytest.fixture(scope="session")
def gzip_channel(target):
    """Channel whose calls compress every request message with gzip."""
    ch = _open_channel(target, compression=grpc.Compression.Gzip)
    yield ch
    ch.close()


@pytest.fixture
def fresh_channel(target):
    """A channel private to one test (for tests that check the connection survives an error)."""
    ch = _open_channel(target)
    yield ch
    ch.close()


@pytest.fixture
def stub(channel, pb):
    return pb.test_pb2_grpc.TestServiceStub(channel)


@pytest.fixture
def raw(host_port):
    """A raw HTTP/2 connection (h2 package) to the target."""
    from h2raw import RawH2Connection

    conn = RawH2Connection(*host_port, timeout=RPC_TIMEOUT)
    yield conn
    conn.close()


# A small deterministic data set for the marketplace services' tests.
SEED_SIZES = ["--users", "120", "--properties", "600", "--bookings", "3000", "--reviews", "500", "--seed", "11"]


@pytest.fixture(scope="session", autouse=True)
def seeded():
    """Seeds the shared server's database once (``marketplace-server seed``), before any test
    registers an account (the seeder only fills an empty database)."""
    binary = os.environ.get("MARKETPLACE_SERVER_BIN")
    url = os.environ.get("MARKETPLACE_DATABASE_URL")
    assert binary and url, "MARKETPLACE_SERVER_BIN and MARKETPLACE_DATABASE_URL are set by Scripts/test"
    result = subprocess.run([binary, "seed", "--database-url", url, *SEED_SIZES],
                            capture_output=True, text=True, timeout=300)
    # A database seeded by an earlier run of the suite is fine; anything else is not.
    assert result.returncode == 0 or "already has users" in result.stderr, result.stderr


class OwnServer:
    """A server process of this test's own, on a free loopback port."""

    def __init__(self, *args: str, embedded_database: bool = False, test_services: bool = True):
        binary = os.environ.get(SERVER_BIN_ENV)
        if not binary:
            pytest.fail(f"set {SERVER_BIN_ENV} to the marketplace-server binary for lifecycle tests")
        self.log = []
        env = dict(os.environ)
        if embedded_database:  # no URL: the server runs a cluster of its own (see --data-dir)
            env.pop("MARKETPLACE_DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--log-level", "info",
             *(["--test-services"] if test_services else []), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.port = None
        deadline = time.monotonic() + 20
        while self.port is None:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"server exited at start: {''.join(self.log)}")
            self.log.append(line)
            match = re.search(r"address=127\.0\.0\.1:(\d+).*listening", line)
            if match:
                self.port = int(match.group(1))
            if time.monotonic() > deadline:
                raise AssertionError("server did not report its port")
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size so far (VmHWM), in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/PID/status")

    def terminate_and_wait(self, timeout: float = 20) -> int:
        """SIGTERM, then the exit status once the process ended and its log was read to the end."""
        self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(timeout=timeout)
        self._drainer.join(timeout=timeout)
        return status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_server():
    servers = []

    def start(*args: str, **options) -> OwnServer:
        server = OwnServer(*args, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()
