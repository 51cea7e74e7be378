"""grpc.health.v1.Health (grpc/health/v1/health.proto)."""

from __future__ import annotations

import grpc
import pytest

from e2e_util import RPC_TIMEOUT, expect_rpc_error

UNKNOWN_SERVICE = "marketplace.e2e.NoSuchService"


@pytest.fixture
def health(channel, pb):
    return pb.health_pb2_grpc.HealthStub(channel)


def test_check_overall_serving(health, pb):
    h = pb.health_pb2
    resp = health.Check(h.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT)
    assert resp.status == h.HealthCheckResponse.SERVING, (
        f"Check(\"\") status {h.HealthCheckResponse.ServingStatus.Name(resp.status)}, expected SERVING")


def test_check_unknown_service_not_found(health, pb):
    expect_rpc_error(f"Check({UNKNOWN_SERVICE!r})", health.Check,
                     pb.health_pb2.HealthCheckRequest(service=UNKNOWN_SERVICE), timeout=RPC_TIMEOUT,
                     expected=grpc.StatusCode.NOT_FOUND)


def test_watch_overall_first_message_serving(health, pb):
    h = pb.health_pb2
    call = health.Watch(h.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT)
    try:
        first = next(call)
        assert first.status == h.HealthCheckResponse.SERVING, (
            f"Watch(\"\") first status {h.HealthCheckResponse.ServingStatus.Name(first.status)}")
    finally:
        call.cancel()
    assert call.code() == grpc.StatusCode.CANCELLED


def test_watch_unknown_service_reports_service_unknown(health, pb):
    """health.proto: for an unknown service Watch sends SERVICE_UNKNOWN and keeps the call open."""
    h = pb.health_pb2
    call = health.Watch(h.HealthCheckRequest(service=UNKNOWN_SERVICE), timeout=RPC_TIMEOUT)
    try:
        first = next(call)
        assert first.status == h.HealthCheckResponse.SERVICE_UNKNOWN, (
            f"Watch(unknown) first status {h.HealthCheckResponse.ServingStatus.Name(first.status)}")
    finally:
        call.cancel()
