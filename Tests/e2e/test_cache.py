"""The in-process cache across server processes: two servers on one database, each with its cache.

After a write is acknowledged by one server, the other never serves the old value (the write's
NOTIFY invalidates it), also right after its listener connection was killed and came back.
"""

from __future__ import annotations

import re
import time

import grpc
import pytest

from accounts import Accounts, bearer, psql
from e2e_util import RPC_TIMEOUT, expect_rpc_error

# How long after a writer's acknowledgement the other process may still answer with the old value.
PROPAGATION = 0.1


@pytest.fixture
def two_servers(own_server, pb):
    """Servers A and B, each with a PropertyService and UserService stub."""
    servers = [own_server(), own_server()]
    channels = [grpc.insecure_channel(f"127.0.0.1:{server.port}") for server in servers]
    stubs = [(pb.properties_pb2_grpc.PropertyServiceStub(c), Accounts(c, pb)) for c in channels]
    yield servers, stubs
    for channel in channels:
        channel.close()


def get(pb, stub, property_id):
    return stub.GetProperty(pb.properties_pb2.GetPropertyRequest(property_id=property_id), timeout=RPC_TIMEOUT).property


def rename(pb, stub, token, property_id, name):
    request = pb.properties_pb2.UpdatePropertyRequest(property=pb.properties_pb2.Property(id=property_id, name=name))
    request.update_mask.paths.append("name")
    return stub.UpdateProperty(request, metadata=bearer(token), timeout=RPC_TIMEOUT).property


def new_listing(pb, stub, token):
    request = pb.properties_pb2.CreatePropertyRequest(property=pb.properties_pb2.Property(
        name="v0", address="1 Main St", city="Cachetown", country="FR", max_guests=2,
        price_per_night=pb.common_pb2.Money(amount_minor=10_000, currency="EUR")))
    return stub.CreateProperty(request, metadata=bearer(token), timeout=RPC_TIMEOUT).property.id


def kill_listeners():
    """Ends every server's LISTEN connection (pg_terminate_backend); returns how many."""
    return int(psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"))


def test_an_update_through_one_server_is_never_served_stale_by_the_other(two_servers, pb):
    (server_a, server_b), ((a, accounts_a), (b, _)) = two_servers
    _, token = accounts_a.signed_up(role=pb.users_pb2.ROLE_HOST)
    listing = new_listing(pb, a, token)
    for version in range(1, 21):
        assert get(pb, b, listing).name == f"v{version - 1}"  # cached in B (from the second read on)
        assert get(pb, b, listing).name == f"v{version - 1}"
        rename(pb, a, token, listing, f"v{version}")
        time.sleep(PROPAGATION)
        assert get(pb, b, listing).name == f"v{version}", f"B served a stale listing after update {version}"

    # Its listener connection killed, B serves nothing from memory until it listens again, then
    # starts from empty: no update is missed.
    assert get(pb, b, listing).name == "v20"
    assert kill_listeners() >= 2
    rename(pb, a, token, listing, "after kill")
    time.sleep(PROPAGATION)
    assert get(pb, b, listing).name == "after kill"
    deadline = time.monotonic() + 10
    while "LISTEN" not in psql("SELECT string_agg(query, ',') FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"):
        assert time.monotonic() < deadline, "the listeners did not come back"
        time.sleep(0.05)
    for version in range(3):
        assert get(pb, b, listing).name in (f"back {version - 1}", "after kill")
        rename(pb, a, token, listing, f"back {version}")
        time.sleep(PROPAGATION)
        assert get(pb, b, listing).name == f"back {version}"

    # A deletion hides the listing everywhere at once.
    a.DeleteProperty(pb.properties_pb2.DeletePropertyRequest(property_id=listing), metadata=bearer(token),
                     timeout=RPC_TIMEOUT)
    time.sleep(PROPAGATION)
    expect_rpc_error("deleted, through B", get, pb, b, listing, expected=grpc.StatusCode.NOT_FOUND)

    for server in (server_a, server_b):
        assert server.terminate_and_wait() == 0
    stopped = [line for line in server_b.log if "cache stopped" in line]
    assert stopped, "B logs its cache counters at shutdown"
    hits = int(re.search(r"cache\.properties\.hits=(\d+)", stopped[0]).group(1))
    assert hits >= 20, stopped[0]


def test_a_revoked_token_stops_working_on_every_server_at_once(two_servers, pb):
    _, ((_, accounts_a), (_, accounts_b)) = two_servers
    user, token = accounts_a.signed_up()
    other = accounts_a.login(user.email).access_token
    assert accounts_b.profile(token) == user and accounts_b.profile(token) == user  # cached in B
    assert accounts_b.profile(other) == user
    accounts_a.stub.Logout(accounts_a.pb.LogoutRequest(), metadata=bearer(token), timeout=RPC_TIMEOUT)
    time.sleep(PROPAGATION)
    expect_rpc_error("logged-out token on B", accounts_b.profile, token, expected=grpc.StatusCode.UNAUTHENTICATED)
    assert accounts_b.profile(other) == user

    # A password change signs out every other session, B's cached ones included.
    fresh = accounts_a.login(user.email).access_token
    accounts_a.stub.ChangePassword(
        accounts_a.pb.ChangePasswordRequest(current_password="correct horse battery", new_password="a new passphrase"),
        metadata=bearer(fresh), timeout=RPC_TIMEOUT)
    time.sleep(PROPAGATION)
    expect_rpc_error("other session on B", accounts_b.profile, other, expected=grpc.StatusCode.UNAUTHENTICATED)
    assert accounts_b.profile(fresh).id == user.id
