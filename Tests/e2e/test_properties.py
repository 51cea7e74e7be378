"""marketplace.v1.PropertyService through grpcio: reads of a seeded data set.

The server under test shares its database with this suite (``$MARKETPLACE_DATABASE_URL``); the
``seeded`` fixture (conftest.py) loads a small deterministic data set into it once.
"""

from __future__ import annotations

import datetime
import uuid

import grpc
import pytest

from accounts import Accounts, bad_request_fields, bearer
from e2e_util import RPC_TIMEOUT, expect_rpc_error


# A big city of the seeded data set (other tests add listings elsewhere, some cheaper than any seeded one).
SEEDED_CITY = "Paris"


@pytest.fixture
def properties(channel, pb, seeded):
    return pb.properties_pb2_grpc.PropertyServiceStub(channel)


def search(pb, stub, **fields):
    return stub.SearchProperties(pb.properties_pb2.SearchPropertiesRequest(**fields), timeout=RPC_TIMEOUT)


def all_pages(pb, stub, page_token="", **fields):
    found, token, pages = [], page_token, 0
    while True:
        page = search(pb, stub, page_token=token, **fields)
        found += page.properties
        pages += 1
        token = page.next_page_token
        if not token:
            return found, pages
        assert pages < 1000, "paging does not end"


def date(pb, text: str):
    year, month, day = map(int, text.split("-"))
    return pb.common_pb2.LocalDate(year=year, month=month, day=day)


def test_search_is_cheapest_first_and_get_returns_the_same_listing(properties, pb):
    page = search(pb, properties, page_size=10)
    assert len(page.properties) == 10 and page.next_page_token
    prices = [(p.price_per_night.amount_minor, p.id) for p in page.properties]
    assert prices == sorted(prices)
    first = page.properties[0]
    got = properties.GetProperty(pb.properties_pb2.GetPropertyRequest(property_id=first.id), timeout=RPC_TIMEOUT)
    assert got.property == first
    assert str(uuid.UUID(first.id)) == first.id and str(uuid.UUID(first.host_id)) == first.host_id
    assert len(first.country) == 2 and len(first.price_per_night.currency) == 3
    assert first.created_at.seconds > 1_500_000_000 and first.max_guests >= 1
    reviewed = [p for p in search(pb, properties, page_size=100).properties if p.rating_count]
    assert reviewed, "the seeded data set has reviewed listings among the 100 cheapest"
    for listing in reviewed:
        assert 1.0 <= listing.rating_average <= 5.0, listing


def test_pages_cover_a_city_once_in_order(properties, pb):
    city = SEEDED_CITY
    everything, _ = all_pages(pb, properties, city=city.upper(), page_size=100)
    paged, pages = all_pages(pb, properties, city=city.lower(), page_size=3)
    assert [p.id for p in paged] == [p.id for p in everything]
    assert len({p.id for p in paged}) == len(paged) and all(p.city == city for p in paged)
    assert pages == max(1, -(-len(paged) // 3)), "a page of 3 more than 3 results, no empty last page"


def test_filters_hold_for_every_result(properties, pb):
    found, _ = all_pages(pb, properties, min_price_per_night_minor=8_000, max_price_per_night_minor=20_000,
                         currency="eur", guests=4, page_size=50)
    assert found, "the seeded data set has listings in this range"
    for listing in found:
        assert 8_000 <= listing.price_per_night.amount_minor <= 20_000 and listing.max_guests >= 4
        assert listing.price_per_night.currency == "EUR"
    currencies = {p.price_per_night.currency for p in search(pb, properties, page_size=100).properties}
    assert len(currencies) > 1, "the seeded data set prices listings in several currencies"


def test_a_price_bound_needs_its_currency(properties, pb):
    err = expect_rpc_error("bound without currency", search, pb, properties, max_price_per_night_minor=10_000,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["currency"]
    yen = search(pb, properties, currency="JPY", page_size=100).properties
    assert all(p.price_per_night.currency == "JPY" for p in yen)


def test_orders_by_rating_and_by_age(properties, pb):
    order = pb.properties_pb2
    by_rating, pages = all_pages(pb, properties, order_by=order.SEARCH_ORDER_RATING, min_rating=4, page_size=25)
    assert by_rating and pages > 1, "the seeded data set has listings rated 4 or more"
    keys = [(p.rating_average, p.id) for p in by_rating]
    assert keys == sorted(keys, reverse=True) and all(p.rating_average >= 4 and p.rating_count for p in by_rating)
    assert len({p.id for p in by_rating}) == len(by_rating)

    city = SEEDED_CITY
    newest, _ = all_pages(pb, properties, city=city, order_by=order.SEARCH_ORDER_NEWEST, page_size=7)
    keys = [(p.created_at.ToNanoseconds(), p.id) for p in newest]
    assert keys == sorted(keys, reverse=True)
    cheapest, _ = all_pages(pb, properties, city=city, page_size=7)
    assert {p.id for p in newest} == {p.id for p in cheapest}


def test_a_page_token_belongs_to_its_query(properties, pb):
    order = pb.properties_pb2
    token = search(pb, properties, city="Paris", page_size=2).next_page_token
    assert token
    assert search(pb, properties, city="Paris", page_size=5, page_token=token).properties  # page size may change
    for other in [dict(city="Lyon"), dict(city="Paris", guests=3), dict(city="Paris", order_by=order.SEARCH_ORDER_RATING),
                  dict(city="Paris", currency="EUR")]:
        err = expect_rpc_error(f"token with {other}", search, pb, properties, page_token=token, **other,
                               expected=grpc.StatusCode.INVALID_ARGUMENT)
        assert bad_request_fields(err) == ["page_token"]


def test_keyset_pages_hold_across_a_concurrent_insert(properties, channel, pb):
    accounts = Accounts(channel, pb)
    _, token = accounts.signed_up(role=pb.users_pb2.ROLE_HOST)
    city = f"Testville {uuid.uuid4().hex[:8]}"

    def listing(price):
        request = pb.properties_pb2.CreatePropertyRequest(property=pb.properties_pb2.Property(
            name=f"At {price}", address="1 Main St", city=city, country="FR", max_guests=2,
            price_per_night=pb.common_pb2.Money(amount_minor=price, currency="EUR")))
        return properties.CreateProperty(request, metadata=bearer(token), timeout=RPC_TIMEOUT).property.id

    first = [listing(price) for price in (1_000, 2_000, 3_000, 4_000, 5_000)]
    page = search(pb, properties, city=city, page_size=2)
    seen = [p.id for p in page.properties]
    assert seen == first[:2]
    behind, ahead = listing(1_500), listing(4_500)  # one before the page boundary, one after it
    rest, _ = all_pages(pb, properties, city=city, page_size=2, page_token=page.next_page_token)
    assert seen + [p.id for p in rest] == first[:4] + [ahead, first[4]]
    assert behind not in {p.id for p in rest}


def test_a_booked_stay_hides_its_listing_only_for_overlapping_dates(properties, channel, pb):
    """A listing booked (through BookingService) from day 10 to day 13 is hidden from searches for
    stays that overlap those nights, and only from those; back-to-back stays do not overlap."""
    accounts = Accounts(channel, pb)
    _, host = accounts.signed_up(role=pb.users_pb2.ROLE_HOST)
    _, guest = accounts.signed_up()
    city = f"Booked {uuid.uuid4().hex[:8]}"
    request = pb.properties_pb2.CreatePropertyRequest(property=pb.properties_pb2.Property(
        name="Booked", address="1 Main St", city=city, country="FR", max_guests=2,
        price_per_night=pb.common_pb2.Money(amount_minor=9_000, currency="EUR")))
    booked = properties.CreateProperty(request, metadata=bearer(host), timeout=RPC_TIMEOUT).property.id
    free = properties.CreateProperty(request, metadata=bearer(host), timeout=RPC_TIMEOUT).property.id
    today = datetime.date.today()  # the listings are in UTC; a day of slack either side of midnight

    def stay(first, last):
        start, end = today + datetime.timedelta(days=first), today + datetime.timedelta(days=last)
        return pb.common_pb2.DateRange(start=date(pb, start.isoformat()), end=date(pb, end.isoformat()))

    pb.bookings_pb2_grpc.BookingServiceStub(channel).CreateBooking(
        pb.bookings_pb2.CreateBookingRequest(property_id=booked, stay=stay(10, 13), guests=2),
        metadata=bearer(guest), timeout=RPC_TIMEOUT)
    for first, last, hidden in [(12, 15, True), (8, 11, True), (9, 20, True), (13, 15, False), (7, 10, False)]:
        found = {p.id for p in search(pb, properties, city=city, stay=stay(first, last)).properties}
        assert found == ({free} if hidden else {free, booked}), (first, last)


@pytest.mark.parametrize("request_fields, field", [
    ({"page_size": 101}, "page_size"),
    ({"page_size": -1}, "page_size"),
    ({"page_token": "not a token"}, "page_token"),
    ({"country": "France"}, "country"),
    ({"guests": -2}, "guests"),
    ({"min_price_per_night_minor": 500, "max_price_per_night_minor": 100, "currency": "EUR"},
     "max_price_per_night_minor"),
    ({"currency": "euro"}, "currency"),
    ({"min_rating": 5.5}, "min_rating"),
    ({"order_by": 9}, "order_by"),
    ({"min_price_per_night_minor": -5}, "min_price_per_night_minor"),
    ({"stay": {"start": {"year": 2030, "month": 2, "day": 30}, "end": {"year": 2030, "month": 3, "day": 2}}}, "stay.start"),
    ({"stay": {"start": {"year": 2030, "month": 3, "day": 2}, "end": {"year": 2030, "month": 3, "day": 2}}}, "stay.end"),
    ({"stay": {"start": {"year": 2030, "month": 3, "day": 2}}}, "stay"),
])
def test_invalid_searches_name_the_field(properties, pb, request_fields, field):
    err = expect_rpc_error(f"search {request_fields}", search, pb, properties, **request_fields,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert field in err.details()


def test_get_property_errors(properties, pb):
    get = properties.GetProperty
    request = pb.properties_pb2.GetPropertyRequest
    err = expect_rpc_error("empty id", get, request(), timeout=RPC_TIMEOUT, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert "property_id" in err.details()
    expect_rpc_error("not a uuid", get, request(property_id="1; DROP TABLE properties"), timeout=RPC_TIMEOUT,
                     expected=grpc.StatusCode.INVALID_ARGUMENT)
    unknown = str(uuid.uuid4())
    err = expect_rpc_error("unknown id", get, request(property_id=unknown), timeout=RPC_TIMEOUT,
                           expected=grpc.StatusCode.NOT_FOUND)
    assert unknown in err.details()


def test_property_service_has_its_own_health_status(channel, pb):
    stub = pb.health_pb2_grpc.HealthStub(channel)
    status = stub.Check(pb.health_pb2.HealthCheckRequest(service="marketplace.v1.PropertyService"), timeout=RPC_TIMEOUT)
    assert status.status == pb.health_pb2.HealthCheckResponse.SERVING
