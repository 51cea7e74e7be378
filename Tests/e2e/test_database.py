"""The server and its database: the embedded default cluster, and a PostgreSQL outage.

These tests start servers of their own (``$MARKETPLACE_SERVER_BIN``) on an embedded cluster in a
temporary directory, so they can stop and start its PostgreSQL.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import time
import uuid

import grpc
import pytest


RUN_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is not installed"
    return found[-1]


def pg_ctl(cluster: str, *args: str):
    subprocess.run(RUN_AS + [pg_tool("pg_ctl"), "-D", f"{cluster}/data", *args], check=True,
                   capture_output=True, timeout=60)


def health_status(pb, port: int, service: str = ""):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb.health_pb2_grpc.HealthStub(channel)
        return stub.Check(pb.health_pb2.HealthCheckRequest(service=service), timeout=2).status


def get_property_status(pb, port: int) -> grpc.StatusCode:
    """The status of GetProperty for an id that does not exist: NOT_FOUND when the database answers."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb.properties_pb2_grpc.PropertyServiceStub(channel)
        try:
            stub.GetProperty(pb.properties_pb2.GetPropertyRequest(property_id=str(uuid.uuid4())), timeout=5)
        except grpc.RpcError as err:
            return err.code()
        return grpc.StatusCode.OK


def wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def data_dir():
    # Traversable by the postgres account when the suite runs as root.
    directory = tempfile.mkdtemp(prefix="marketplace-e2e-data-")
    os.chmod(directory, 0o755)
    yield directory
    subprocess.run(["rm", "-rf", directory], check=False)


def embedded_server(own_server, data_dir):
    return own_server("--data-dir", data_dir, "--shutdown-grace-seconds", "2", embedded_database=True)


def test_embedded_cluster_from_nothing_then_reused(own_server, data_dir, pb):
    serving = pb.health_pb2.HealthCheckResponse.SERVING
    first = embedded_server(own_server, data_dir)
    assert health_status(pb, first.port) == serving
    assert first.terminate_and_wait() == 0, "".join(first.log)
    assert any("outcome=initialized" in line for line in first.log), "".join(first.log)
    assert not glob.glob(f"{data_dir}/postgres/data/postmaster.pid"), "PostgreSQL still running after the server stopped"

    second = embedded_server(own_server, data_dir)
    assert health_status(pb, second.port) == serving
    assert second.terminate_and_wait() == 0, "".join(second.log)
    assert any("outcome=started" in line for line in second.log), "".join(second.log)
    assert not any("applied migration" in line for line in second.log), "migrations ran twice"


def test_a_tool_shares_a_running_servers_cluster_and_a_second_server_is_refused(own_server, data_dir, pb):
    """`marketplace-server jobs list` beside a server on its embedded cluster uses that cluster and
    leaves it running; a second server on the directory is refused, where it used to adopt the
    cluster and stop it, under the first, when it exited."""
    server = embedded_server(own_server, data_dir)
    binary = os.environ["MARKETPLACE_SERVER_BIN"]
    env = dict(os.environ)
    env.pop("MARKETPLACE_DATABASE_URL", None)

    listed = subprocess.run([binary, "jobs", "list", "--data-dir", data_dir], env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "outcome=shared" in listed.stderr and "left running" in listed.stderr, listed.stderr
    assert get_property_status(pb, server.port) == grpc.StatusCode.NOT_FOUND  # the database still answers

    second = subprocess.run([binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir], env=env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert "another running process uses the PostgreSQL directory" in second.stderr, second.stderr
    assert get_property_status(pb, server.port) == grpc.StatusCode.NOT_FOUND
    assert server.terminate_and_wait() == 0, "".join(server.log)
    assert not glob.glob(f"{data_dir}/postgres/data/postmaster.pid"), "the owner stops its cluster"


def test_database_outage_is_not_serving_then_recovers(own_server, data_dir, pb):
    serving = pb.health_pb2.HealthCheckResponse.SERVING
    not_serving = pb.health_pb2.HealthCheckResponse.NOT_SERVING
    server = embedded_server(own_server, data_dir)
    cluster = f"{data_dir}/postgres"
    assert health_status(pb, server.port) == serving

    assert get_property_status(pb, server.port) == grpc.StatusCode.NOT_FOUND

    pg_ctl(cluster, "stop", "-m", "fast", "-w")
    gone_in = wait_for(lambda: health_status(pb, server.port) == not_serving, 5, "NOT_SERVING while PostgreSQL is down")
    assert gone_in <= 2.0, f"still SERVING {gone_in:.2f} s after PostgreSQL stopped"
    assert health_status(pb, server.port, "marketplace.v1.PropertyService") == not_serving
    # Calls that need the database fail fast with UNAVAILABLE (retryable), not a hang or INTERNAL.
    for _ in range(3):
        started = time.monotonic()
        assert get_property_status(pb, server.port) == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 5

    pg_ctl(cluster, "start", "-w", "-l", f"{cluster}/postgres.log")
    back_in = wait_for(lambda: health_status(pb, server.port) == serving, 5, "SERVING once PostgreSQL is back")
    assert back_in <= 2.0, f"serving again {back_in:.2f} s after PostgreSQL returned"
    assert health_status(pb, server.port, "marketplace.v1.PropertyService") == serving
    assert get_property_status(pb, server.port) == grpc.StatusCode.NOT_FOUND

    # No leaked connections: the pool holds at most its maximum.
    count = subprocess.run(
        RUN_AS + [pg_tool("psql"), "-h", cluster, "-U", "postgres", "-d", "marketplace", "-Atc",
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'marketplace'"],
        check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    assert int(count) <= 10, f"{count} connections from the server"
    assert server.terminate_and_wait() == 0, "".join(server.log)


def test_a_saturated_pool_is_still_serving(own_server, data_dir, pb):
    """Health judges reachability on a connection of its own: with both pool connections stuck
    behind a lock and calls queueing for them, the database still answers, so health says SERVING."""
    serving = pb.health_pb2.HealthCheckResponse.SERVING
    server = own_server("--data-dir", data_dir, "--database-connections", "2", "--shutdown-grace-seconds", "2",
                        embedded_database=True)
    cluster = f"{data_dir}/postgres"
    locker = subprocess.Popen(
        RUN_AS + [pg_tool("psql"), "-h", cluster, "-U", "postgres", "-d", "marketplace", "-Atc",
                  "BEGIN; LOCK TABLE properties IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the lock is taken
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb.properties_pb2_grpc.PropertyServiceStub(channel)
            calls = [stub.GetProperty.future(pb.properties_pb2.GetPropertyRequest(property_id=str(uuid.uuid4())),
                                             timeout=20) for _ in range(30)]
            statuses = []
            started = time.monotonic()
            while time.monotonic() - started < 2.5:
                statuses.append(health_status(pb, server.port))
                time.sleep(0.1)
            assert not any(call.done() for call in calls), "the calls should wait behind the lock"
            assert statuses == [serving] * len(statuses), statuses
            for call in calls:
                try:
                    call.result(timeout=20)
                except grpc.RpcError as err:
                    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()
        assert locker.wait(timeout=20) == 0, locker.stderr.read()
    finally:
        if locker.poll() is None:
            locker.kill()
    assert server.terminate_and_wait() == 0, "".join(server.log)


def test_no_log_line_shows_the_database_password(pb):
    """A URL with a password (it belongs in MARKETPLACE_DATABASE_URL, not in ps) never reaches a log:
    not at start-up, not in the connection errors, however malformed."""
    binary = os.environ["MARKETPLACE_SERVER_BIN"]
    for url in ["postgresql://app:S3cr3t-pw@/app?host=/nonexistent-socket-dir",
                "postgresql://app:S3cr3t-pw%zz@/app?host=/nonexistent-socket-dir"]:
        env = dict(os.environ, MARKETPLACE_DATABASE_URL=url)
        result = subprocess.run([binary, "--port", "0", "--log-level", "trace"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "cannot connect to the database" in output, output
        assert "S3cr3t" not in output, output
