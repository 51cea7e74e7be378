"""marketplace.v1.PropertyService through grpcio: hosts create and manage listings; who may do what.

Listings are created by accounts of this module's own (unique emails), on the shared server and
database; the seeded listings of test_properties.py are only read.
"""

from __future__ import annotations

import base64
import datetime
import uuid

import grpc
import pytest

from accounts import Accounts, bad_request_fields, bearer, psql, set_role
from e2e_util import RPC_TIMEOUT, expect_rpc_error

OK = "OK"


class People:
    """One account of each kind, signed in: the rows of the authorization matrix."""

    def __init__(self, channel, pb):
        accounts = Accounts(channel, pb)
        roles = pb.users_pb2
        self.tokens = {"anonymous": None}
        self.users = {}
        for name, role in [("guest", roles.ROLE_GUEST), ("other guest", roles.ROLE_GUEST), ("host", roles.ROLE_HOST),
                           ("other host", roles.ROLE_HOST), ("admin", roles.ROLE_GUEST)]:
            user, token = accounts.signed_up(role=role, display_name=name.title())
            self.users[name], self.tokens[name] = user, token
        set_role(self.users["admin"].email, "admin")


@pytest.fixture(scope="module")
def people(channel, pb):
    return People(channel, pb)


@pytest.fixture
def listings(channel, pb):
    return pb.properties_pb2_grpc.PropertyServiceStub(channel)


def metadata(token):
    return bearer(token) if token else ()


def new_listing(pb, **overrides):
    fields = dict(
        name="Loft by the canal", description="Bright, quiet.", address="12 quai de Jemmapes", city="Paris",
        country="fr", coordinates=pb.properties_pb2.Coordinates(latitude=48.87, longitude=2.36),
        price_per_night=pb.common_pb2.Money(amount_minor=12_000, currency="eur"), max_guests=3)
    fields.update(overrides)
    return pb.properties_pb2.Property(**fields)


def create(pb, stub, token, **overrides):
    request = pb.properties_pb2.CreatePropertyRequest(property=new_listing(pb, **overrides))
    return stub.CreateProperty(request, metadata=metadata(token), timeout=RPC_TIMEOUT).property


def update(pb, stub, token, property_id, paths, **fields):
    request = pb.properties_pb2.UpdatePropertyRequest(property=pb.properties_pb2.Property(id=property_id, **fields))
    request.update_mask.paths.extend(paths)
    return stub.UpdateProperty(request, metadata=metadata(token), timeout=RPC_TIMEOUT)


def delete(pb, stub, token, property_id):
    return stub.DeleteProperty(pb.properties_pb2.DeletePropertyRequest(property_id=property_id),
                               metadata=metadata(token), timeout=RPC_TIMEOUT)


def get(pb, stub, property_id, token=None):
    return stub.GetProperty(pb.properties_pb2.GetPropertyRequest(property_id=property_id), metadata=metadata(token),
                            timeout=RPC_TIMEOUT).property


def list_own(pb, stub, token, **fields):
    return stub.ListProperties(pb.properties_pb2.ListPropertiesRequest(**fields), metadata=metadata(token),
                               timeout=RPC_TIMEOUT)


def outcome(call):
    try:
        call()
        return OK
    except grpc.RpcError as err:
        return err.code().name


def test_a_host_lists_a_place_with_its_terms(people, listings, pb):
    host = people.users["host"]
    created = create(pb, listings, people.tokens["host"])
    assert created.host_id == host.id and created.name == "Loft by the canal"
    assert created.country == "FR" and created.price_per_night.currency == "EUR"
    # The terms a host did not set take their documented defaults.
    assert created.time_zone == "UTC" and (created.min_nights, created.max_nights) == (1, 365)
    assert not created.HasField("cleaning_fee") and not created.HasField("deleted_at")
    assert created.booking_mode == pb.properties_pb2.BOOKING_MODE_INSTANT
    assert created.cancellation_policy == pb.properties_pb2.CANCELLATION_POLICY_FLEXIBLE
    assert get(pb, listings, created.id) == created  # anyone reads it, signed in or not

    terms = create(pb, listings, people.tokens["host"], time_zone="Europe/Paris", min_nights=2, max_nights=14,
                   cleaning_fee=pb.common_pb2.Money(amount_minor=3_000, currency="EUR"),
                   booking_mode=pb.properties_pb2.BOOKING_MODE_REQUEST,
                   cancellation_policy=pb.properties_pb2.CANCELLATION_POLICY_STRICT)
    assert terms.time_zone == "Europe/Paris" and (terms.min_nights, terms.max_nights) == (2, 14)
    assert terms.cleaning_fee.amount_minor == 3_000 and terms.cleaning_fee.currency == "EUR"
    assert terms.booking_mode == pb.properties_pb2.BOOKING_MODE_REQUEST
    assert terms.cancellation_policy == pb.properties_pb2.CANCELLATION_POLICY_STRICT


def test_a_listing_that_breaks_rules_names_every_field(people, listings, pb):
    err = expect_rpc_error(
        "bad listing", create, pb, listings, people.tokens["host"], name=" ", country="France",
        coordinates=pb.properties_pb2.Coordinates(latitude=91, longitude=2),
        price_per_night=pb.common_pb2.Money(amount_minor=0, currency="euro"), max_guests=0,
        time_zone="Mars/Olympus", min_nights=10, max_nights=5,
        cleaning_fee=pb.common_pb2.Money(amount_minor=-1, currency="EUR"), booking_mode=7,
        expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == [
        "property.name", "property.country", "property.coordinates.latitude", "property.price_per_night.currency",
        "property.price_per_night.amount_minor", "property.max_guests", "property.time_zone",
        "property.max_nights", "property.cleaning_fee.amount_minor", "property.booking_mode"]
    err = expect_rpc_error("fee in another currency", create, pb, listings, people.tokens["host"],
                           cleaning_fee=pb.common_pb2.Money(amount_minor=100, currency="USD"),
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["property.cleaning_fee.currency"]
    err = expect_rpc_error("no price", create, pb, listings, people.tokens["host"], price_per_night=None,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["property.price_per_night"]


def test_update_applies_the_mask_and_keeps_the_listing_whole(people, listings, pb):
    token = people.tokens["host"]
    listing = create(pb, listings, token, cleaning_fee=pb.common_pb2.Money(amount_minor=2_000, currency="EUR"))

    changed = update(pb, listings, token, listing.id, ["price_per_night", "max_guests", "name"],
                     price_per_night=pb.common_pb2.Money(amount_minor=9_900, currency="usd"), max_guests=5,
                     name="Renamed", city="Ignored")
    assert list(changed.updated_fields) == ["price_per_night", "max_guests", "name"]
    updated = changed.property
    assert (updated.price_per_night.amount_minor, updated.price_per_night.currency) == (9_900, "USD")
    assert updated.cleaning_fee.currency == "USD"  # the fee follows the price's currency
    assert updated.max_guests == 5 and updated.name == "Renamed" and updated.city == "Paris"
    assert updated.updated_at.ToNanoseconds() >= listing.updated_at.ToNanoseconds()
    assert get(pb, listings, listing.id) == updated

    removed = update(pb, listings, token, listing.id, ["cleaning_fee"]).property
    assert not removed.HasField("cleaning_fee")
    unchanged = update(pb, listings, token, listing.id, [], name="Ignored")
    assert unchanged.property == removed and list(unchanged.updated_fields) == []

    for paths in (["host_id"], ["rating_average"], ["deleted_at"], ["nickname"]):
        err = expect_rpc_error(f"mask {paths}", update, pb, listings, token, listing.id, paths,
                               expected=grpc.StatusCode.INVALID_ARGUMENT)
        assert bad_request_fields(err) == ["update_mask"] and paths[0] in err.details()
    err = expect_rpc_error("min above max", update, pb, listings, token, listing.id, ["min_nights"], min_nights=400,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["property.min_nights"]
    err = expect_rpc_error("bad id", update, pb, listings, token, "not-a-uuid", ["name"], name="x",
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["property.id"]


def test_authorization_matrix(people, listings, channel, pb):
    """Every caller x every method of PropertyService and UserService: who gets OK, and what the
    others get."""
    users = pb.users_pb2
    user_stub = pb.users_pb2_grpc.UserServiceStub(channel)
    denied, hidden, signed_out = "PERMISSION_DENIED", "NOT_FOUND", "UNAUTHENTICATED"
    owner_only = {"anonymous": signed_out, "guest": denied, "other guest": denied, "host": OK,
                  "other host": denied, "admin": OK}

    def fresh():
        return create(pb, listings, people.tokens["host"]).id

    methods = {
        "CreateProperty": (lambda token: create(pb, listings, token),
                           {"anonymous": signed_out, "guest": denied, "other guest": denied, "host": OK,
                            "other host": OK, "admin": OK}),
        "GetProperty": (lambda token, pid=fresh(): get(pb, listings, pid, token), dict.fromkeys(people.tokens, OK)),
        "UpdateProperty": (lambda token, pid=fresh(): update(pb, listings, token, pid, ["name"], name="New"),
                           owner_only),
        "DeleteProperty": (lambda token: delete(pb, listings, token, fresh()), owner_only),
        "ListProperties": (lambda token: list_own(pb, listings, token),
                           {**dict.fromkeys(people.tokens, OK), "anonymous": signed_out}),
        "SearchProperties": (lambda token: listings.SearchProperties(
            pb.properties_pb2.SearchPropertiesRequest(city="Paris"), metadata=metadata(token), timeout=RPC_TIMEOUT),
            dict.fromkeys(people.tokens, OK)),
        "GetProfile": (lambda token: user_stub.GetProfile(users.GetProfileRequest(), metadata=metadata(token),
                                                          timeout=RPC_TIMEOUT),
                       {**dict.fromkeys(people.tokens, OK), "anonymous": signed_out}),
        "UpdateProfile": (lambda token: user_stub.UpdateProfile(users.UpdateProfileRequest(), metadata=metadata(token),
                                                                timeout=RPC_TIMEOUT),
                          {**dict.fromkeys(people.tokens, OK), "anonymous": signed_out}),
        "ChangePassword": (lambda token: user_stub.ChangePassword(
            users.ChangePasswordRequest(current_password="wrong password!", new_password="another passphrase"),
            metadata=metadata(token), timeout=RPC_TIMEOUT),
            {**dict.fromkeys(people.tokens, denied), "anonymous": signed_out}),
    }
    accounts = Accounts(channel, pb)
    methods["Register"] = (lambda token: user_stub.Register(
        users.RegisterRequest(email=f"matrix.{uuid.uuid4().hex[:10]}@example.com", password="correct horse battery",
                              display_name="Matrix"), metadata=metadata(token), timeout=RPC_TIMEOUT),
        dict.fromkeys(people.tokens, OK))
    methods["Login"] = (lambda token: user_stub.Login(
        users.LoginRequest(email=people.users["guest"].email, password="correct horse battery"),
        metadata=metadata(token), timeout=RPC_TIMEOUT), dict.fromkeys(people.tokens, OK))
    got = {(method, who): outcome(lambda: call(token)) for method, (call, _) in methods.items()
           for who, token in people.tokens.items()}
    # Logout ends the session it is called with: each caller signs out a session of its own.
    methods["Logout"] = (None, {**dict.fromkeys(people.tokens, OK), "anonymous": signed_out})
    for who, user in [("anonymous", None), *people.users.items()]:
        token = accounts.login(user.email).access_token if user else None
        got[("Logout", who)] = outcome(lambda: user_stub.Logout(
            users.LogoutRequest(), metadata=metadata(token), timeout=RPC_TIMEOUT))
    want = {(method, who): expected[who] for method, (_, expected) in methods.items() for who in people.tokens}
    assert got == want

    # A deleted listing is hidden from everyone, its host and administrators included.
    gone = fresh()
    delete(pb, listings, people.tokens["host"], gone)
    for who, token in people.tokens.items():
        assert outcome(lambda: get(pb, listings, gone, token)) == hidden, who
        assert outcome(lambda: update(pb, listings, token, gone, ["name"], name="x")) == (
            signed_out if token is None else hidden), who
        assert outcome(lambda: delete(pb, listings, token, gone)) == (signed_out if token is None else hidden), who


def test_list_properties_pages_through_the_callers_own_with_sealed_tokens(people, listings, channel, own_server, pb):
    _, token = Accounts(channel, pb).signed_up(role=pb.users_pb2.ROLE_HOST)
    made = [create(pb, listings, token, name=f"Flat {n}").id for n in range(5)]
    delete(pb, listings, token, made[0])

    def pages(include_deleted=False, stub=listings):
        found, page_token = [], ""
        while True:
            page = list_own(pb, stub, token, page_size=2, page_token=page_token, include_deleted=include_deleted)
            found.append([p.id for p in page.properties])
            page_token = page.next_page_token
            if not page_token:
                return found

    assert pages() == [[made[4], made[3]], [made[2], made[1]]]
    with_deleted = pages(include_deleted=True)
    assert with_deleted == [[made[4], made[3]], [made[2], made[1]], [made[0]]]
    first = list_own(pb, listings, token, page_size=2, include_deleted=True)
    assert all(not p.HasField("deleted_at") for p in first.properties)
    last = list_own(pb, listings, token, page_size=2, include_deleted=True,
                    page_token=list_own(pb, listings, token, page_size=2, include_deleted=True,
                                        page_token=first.next_page_token).next_page_token)
    assert last.properties[0].HasField("deleted_at")

    # A token pages only through the query it came from, and cannot be edited.
    next_token = first.next_page_token
    raw = bytearray(base64.urlsafe_b64decode(next_token + "=" * (-len(next_token) % 4)))
    raw[5] ^= 1
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for what, call in [
        ("edited", lambda: list_own(pb, listings, token, page_size=2, include_deleted=True, page_token=edited)),
        ("other filter", lambda: list_own(pb, listings, token, page_size=2, page_token=next_token)),
        ("other caller", lambda: list_own(pb, listings, people.tokens["host"], include_deleted=True,
                                          page_token=next_token)),
        ("forged", lambda: list_own(pb, listings, token, page_token="AQ" + "A" * 60)),
    ]:
        err = expect_rpc_error(what, call, expected=grpc.StatusCode.INVALID_ARGUMENT)
        assert bad_request_fields(err) == ["page_token"]
    # Any server process on the database opens it: the key is shared.
    server = own_server()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as other_channel:
        other = pb.properties_pb2_grpc.PropertyServiceStub(other_channel)
        page = list_own(pb, other, token, page_size=2, include_deleted=True, page_token=next_token)
        assert [p.id for p in page.properties] == [made[2], made[1]]
    expect_rpc_error("page size", list_own, pb, listings, token, page_size=101,
                     expected=grpc.StatusCode.INVALID_ARGUMENT)


def test_a_listing_with_upcoming_bookings_cannot_be_deleted(people, listings, pb):
    token = people.tokens["host"]
    listing = create(pb, listings, token)
    guest = people.users["guest"]
    today = datetime.date.today()

    def book(check_in, check_out, status):
        expires = "now() + interval '15 minutes'" if status in ("pending", "confirmed") else "NULL"
        return psql(
            "INSERT INTO bookings (property_id, host_id, guest_id, check_in, check_out, guests, total_price_minor,"
            f" currency, status, expires_at) VALUES ('{listing.id}', '{listing.host_id}', '{guest.id}', '{check_in}',"
            f" '{check_out}', 1, 24000, 'EUR', '{status}', {expires}) RETURNING id")

    book(today - datetime.timedelta(days=10), today - datetime.timedelta(days=8), "completed")
    book(today - datetime.timedelta(days=5), today - datetime.timedelta(days=3), "confirmed")  # ended
    upcoming = book(today + datetime.timedelta(days=20), today + datetime.timedelta(days=22), "pending")
    err = expect_rpc_error("delete with a pending stay to come", delete, pb, listings, token, listing.id,
                           expected=grpc.StatusCode.FAILED_PRECONDITION)
    assert "1 pending or confirmed" in err.details()
    assert get(pb, listings, listing.id).id == listing.id
    psql(f"UPDATE bookings SET status = 'cancelled', expires_at = NULL WHERE id = '{upcoming}'")
    delete(pb, listings, token, listing.id)
    expect_rpc_error("get after delete", get, pb, listings, listing.id, expected=grpc.StatusCode.NOT_FOUND)
