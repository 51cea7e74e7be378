"""BookingService, PaymentService and ReviewService through grpcio: the booking core, end to end.

The module runs a server of its own, on a database of its own (its job queue is its own) and with a
test clock (``--test-clock-file``) the tests move forward to pass payment deadlines, host answer
deadlines and check-outs without waiting. Listings are in UTC, so the server's "today" is the UTC
date of its clock.
"""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from accounts import Accounts, bad_request_fields, bearer
from conftest import OwnServer, _open_channel
from e2e_util import RPC_TIMEOUT, expect_rpc_error

WAIT = 30  # seconds a background step (a job, a sweep) may take on a busy machine


def own_database_url(name: str) -> str:
    """A database of `name` in the shared server's cluster (created empty; the server migrates it)."""
    url = os.environ["MARKETPLACE_DATABASE_URL"]
    subprocess.run(["psql", url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True)
    subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return re.sub(r"^(postgresql://[^/?]*/)[^?]*", lambda m: m.group(1) + name, url)


def wait_for(what: str, predicate, timeout: float = WAIT):
    """The first truthy value of predicate(), polled until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Market:
    """The module's server, its database, its clock, and the calls a test would otherwise repeat."""

    def __init__(self, server: OwnServer, url: str, clock_file, pb):
        self.server, self.url, self.clock_file, self.pb = server, url, clock_file, pb
        self.offset = 0
        self.channel = _open_channel(f"127.0.0.1:{server.port}")
        self.accounts = Accounts(self.channel, pb)
        self.properties = pb.properties_pb2_grpc.PropertyServiceStub(self.channel)
        self.bookings = pb.bookings_pb2_grpc.BookingServiceStub(self.channel)
        self.payments = pb.payments_pb2_grpc.PaymentServiceStub(self.channel)
        self.reviews = pb.reviews_pb2_grpc.ReviewServiceStub(self.channel)
        self.b = pb.bookings_pb2
        self.p = pb.payments_pb2

    # Time.
    def today(self) -> datetime.date:
        return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.offset)).date()

    def advance(self, **delta):
        """Moves the server's clock forward, and waits until the server (which reads the file every
        100 ms) logs that it moved."""
        self.offset += int(datetime.timedelta(**delta).total_seconds())
        self.clock_file.write_text(str(self.offset))
        moved = f"clock.offset_seconds={self.offset}"
        wait_for(f"the server's clock to move to +{self.offset}s",
                 lambda: any(moved in line and "test clock moved" in line for line in self.server.log))

    def sql(self, query: str) -> str:
        return subprocess.run(["psql", self.url, "-qAtc", query], capture_output=True, text=True,
                              check=True).stdout.strip()

    # People and listings.
    def person(self, role="guest"):
        roles = self.pb.users_pb2
        user, token = self.accounts.signed_up(role=roles.ROLE_HOST if role == "host" else roles.ROLE_GUEST)
        return user, token

    def listing(self, host_token, mode="instant", policy="flexible", price=10_000, fee=0, max_guests=4,
                min_nights=1):
        pp = self.pb.properties_pb2
        money = self.pb.common_pb2.Money
        prop = pp.Property(
            name="Flat", address="1 Main St", city=f"Town {uuid.uuid4().hex[:6]}", country="PT",
            price_per_night=money(amount_minor=price, currency="EUR"), max_guests=max_guests, min_nights=min_nights,
            booking_mode={"instant": pp.BOOKING_MODE_INSTANT, "request": pp.BOOKING_MODE_REQUEST}[mode],
            cancellation_policy={"flexible": pp.CANCELLATION_POLICY_FLEXIBLE,
                                 "moderate": pp.CANCELLATION_POLICY_MODERATE,
                                 "strict": pp.CANCELLATION_POLICY_STRICT}[policy],
            **({"cleaning_fee": money(amount_minor=fee, currency="EUR")} if fee else {}))
        return self.properties.CreateProperty(pp.CreatePropertyRequest(property=prop), metadata=bearer(host_token),
                                              timeout=RPC_TIMEOUT).property

    def dates(self, start_in_days: int, nights: int):
        common = self.pb.common_pb2
        start = self.today() + datetime.timedelta(days=start_in_days)
        end = start + datetime.timedelta(days=nights)
        return common.DateRange(start=common.LocalDate(year=start.year, month=start.month, day=start.day),
                                end=common.LocalDate(year=end.year, month=end.month, day=end.day))

    # Calls.
    def book(self, token, listing, start_in_days=10, nights=3, guests=2):
        return self.bookings.CreateBooking(
            self.b.CreateBookingRequest(property_id=listing.id, stay=self.dates(start_in_days, nights), guests=guests),
            metadata=bearer(token), timeout=RPC_TIMEOUT).booking

    def get(self, token, booking_id):
        return self.bookings.GetBooking(self.b.GetBookingRequest(booking_id=booking_id), metadata=bearer(token),
                                        timeout=RPC_TIMEOUT).booking

    def pay(self, token, booking, method="pm_sandbox_ok", key=None, amount=None):
        return self.payments.CreatePayment(
            self.p.CreatePaymentRequest(booking_id=booking.id, payment_method_token=method,
                                        idempotency_key=key or uuid.uuid4().hex, amount=amount or booking.price.total),
            metadata=bearer(token), timeout=RPC_TIMEOUT).payment

    def payment(self, token, payment_id):
        return self.payments.GetPayment(self.p.GetPaymentRequest(payment_id=payment_id), metadata=bearer(token),
                                        timeout=RPC_TIMEOUT).payment

    def wait_status(self, token, booking_id, status):
        return wait_for(f"booking {booking_id} to be {self.b.BookingStatus.Name(status)}",
                        lambda: (b := self.get(token, booking_id)).status == status and b)

    def wait_payment(self, token, payment_id, status):
        return wait_for(f"payment {payment_id} to be {self.p.PaymentStatus.Name(status)}",
                        lambda: (p := self.payment(token, payment_id)).status == status and p)

    def charges(self, payment_id) -> int:
        """Charges the sandbox gateway made for the payment (its ledger, keyed by idempotency key)."""
        return int(self.sql(f"SELECT count(*) FROM sandbox_gateway_operations WHERE idempotency_key = "
                            f"'charge-{payment_id}' AND kind = 'charge'"))

    def close(self):
        self.channel.close()


@pytest.fixture(scope="module")
def market(pb, tmp_path_factory):
    url = own_database_url(f"marketplace_bookings_{uuid.uuid4().hex[:8]}")
    clock = tmp_path_factory.mktemp("clock") / "offset"
    clock.write_text("0")
    server = OwnServer("--database-url", url, "--test-clock-file", str(clock), "--job-workers", "2")
    market = Market(server, url, clock, pb)
    yield market
    market.close()
    server.kill()


def test_the_whole_story(market):
    """A host lists, a guest books and pays, the booking is confirmed, the stay passes, the guest
    reviews, and the rating shows in GetProperty and in search."""
    b = market.b
    _, host = market.person("host")
    _, guest = market.person()
    listing = market.listing(host, price=10_000, fee=2_500)
    booking = market.book(guest, listing, start_in_days=5, nights=3)
    assert booking.status == b.BOOKING_STATUS_PENDING
    assert booking.price.nights == 3 and booking.price.accommodation.amount_minor == 30_000
    assert booking.price.cleaning_fee.amount_minor == 2_500 and booking.price.total.amount_minor == 32_500
    assert booking.HasField("payment_deadline")

    watch = market.bookings.WatchBooking(b.WatchBookingRequest(booking_id=booking.id), metadata=bearer(guest),
                                         timeout=3 * WAIT)
    assert next(watch).booking.status == b.BOOKING_STATUS_PENDING
    payment = market.pay(guest, booking)
    assert payment.status == market.p.PAYMENT_STATUS_PENDING
    assert next(watch).booking.status == b.BOOKING_STATUS_CONFIRMED
    market.wait_payment(guest, payment.id, market.p.PAYMENT_STATUS_SUCCEEDED)
    assert market.charges(payment.id) == 1

    # The stay passes; the moved clock wakes the completion sweep, and the watch ends with it.
    market.advance(days=9)
    last = next(watch).booking
    assert last.status == b.BOOKING_STATUS_COMPLETED
    assert list(watch) == [], "the stream ends after a final state"

    review = market.reviews.CreateReview(
        market.pb.reviews_pb2.CreateReviewRequest(booking_id=booking.id, rating=4, comment="Quiet and clean."),
        metadata=bearer(guest), timeout=RPC_TIMEOUT).review
    assert review.rating == 4 and review.author_id == booking.guest_id
    err = expect_rpc_error("a second review", market.reviews.CreateReview,
                           market.pb.reviews_pb2.CreateReviewRequest(booking_id=booking.id, rating=5),
                           metadata=bearer(guest), timeout=RPC_TIMEOUT, expected=grpc.StatusCode.ALREADY_EXISTS)
    assert "review" in err.details()

    shown = market.properties.GetProperty(market.pb.properties_pb2.GetPropertyRequest(property_id=listing.id),
                                          timeout=RPC_TIMEOUT).property
    assert shown.rating_count == 1 and shown.rating_average == 4.0
    found = market.properties.SearchProperties(
        market.pb.properties_pb2.SearchPropertiesRequest(city=listing.city, min_rating=3.5),
        timeout=RPC_TIMEOUT).properties
    assert [p.id for p in found] == [listing.id] and found[0].rating_average == 4.0
    listed = market.reviews.ListReviews(market.pb.reviews_pb2.ListReviewsRequest(property_id=listing.id),
                                        timeout=RPC_TIMEOUT).reviews
    assert [r.id for r in listed] == [review.id]
    outbox = market.sql(f"SELECT string_agg(kind, ',' ORDER BY id) FROM outbox WHERE payload->>'booking_id' = "
                        f"'{booking.id}'")
    assert outbox == "booking.confirmed,booking.confirmed", outbox  # the guest's and the host's


def test_concurrent_requests_for_one_stay_one_wins(market):
    """32 clients book overlapping dates of one listing at once: exactly one wins, and the database
    holds no overlap."""
    _, host = market.person("host")
    listing = market.listing(host)
    guests = [market.person()[1] for _ in range(4)]

    def attempt(i):
        try:
            return market.book(guests[i % 4], listing, start_in_days=20 + i % 3, nights=3).id
        except grpc.RpcError as err:
            return err.code()

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(32)))
    won = [o for o in outcomes if isinstance(o, str)]
    assert len(won) == 1, outcomes
    assert all(o == grpc.StatusCode.FAILED_PRECONDITION for o in outcomes if not isinstance(o, str)), outcomes
    overlaps = market.sql(
        "SELECT count(*) FROM bookings a JOIN bookings b ON a.property_id = b.property_id AND a.id < b.id"
        " AND a.stay && b.stay WHERE a.status IN ('pending', 'awaiting_host', 'confirmed', 'blocked')"
        " AND b.status IN ('pending', 'awaiting_host', 'confirmed', 'blocked')")
    assert overlaps == "0"


def test_one_idempotency_key_makes_one_payment_and_one_charge(market):
    _, host = market.person("host")
    _, guest = market.person()
    booking = market.book(guest, market.listing(host))
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=16) as pool:
        payments = list(pool.map(lambda _: market.pay(guest, booking, key=key), range(16)))
    assert len({p.id for p in payments}) == 1
    payment = market.wait_payment(guest, payments[0].id, market.p.PAYMENT_STATUS_SUCCEEDED)
    assert market.charges(payment.id) == 1
    assert market.pay(guest, booking, key=key).id == payment.id  # a retry after the fact
    err = expect_rpc_error("the key with another amount", market.pay, guest, booking, key=key,
                           amount=market.pb.common_pb2.Money(amount_minor=1, currency="EUR"),
                           expected=grpc.StatusCode.FAILED_PRECONDITION)
    assert "idempotency_key" in err.details()
    assert market.sql(f"SELECT count(*) FROM payments WHERE booking_id = '{booking.id}'") == "1"


def test_a_transient_gateway_failure_is_retried_to_success(market):
    _, host = market.person("host")
    _, guest = market.person()
    booking = market.book(guest, market.listing(host))
    payment = market.pay(guest, booking, method="pm_sandbox_transient")
    market.wait_payment(guest, payment.id, market.p.PAYMENT_STATUS_SUCCEEDED)
    assert market.get(guest, booking.id).status == market.b.BOOKING_STATUS_CONFIRMED
    assert market.sql(f"SELECT failures FROM sandbox_gateway_failures WHERE idempotency_key = 'charge-{payment.id}'") \
        == "3"  # two failures, then the call that succeeded
    assert market.charges(payment.id) == 1


def test_a_declined_payment_leaves_the_booking_pending_for_another(market):
    _, host = market.person("host")
    _, guest = market.person()
    booking = market.book(guest, market.listing(host))
    declined = market.pay(guest, booking, method="pm_sandbox_declined")
    failed = market.wait_payment(guest, declined.id, market.p.PAYMENT_STATUS_FAILED)
    assert failed.failure_reason and market.charges(declined.id) == 0
    assert market.get(guest, booking.id).status == market.b.BOOKING_STATUS_PENDING
    second = market.pay(guest, booking)
    market.wait_payment(guest, second.id, market.p.PAYMENT_STATUS_SUCCEEDED)
    assert market.get(guest, booking.id).status == market.b.BOOKING_STATUS_CONFIRMED
    listed = market.payments.ListPayments(market.p.ListPaymentsRequest(booking_id=booking.id),
                                          metadata=bearer(guest), timeout=RPC_TIMEOUT).payments
    assert [p.id for p in listed] == [second.id, declined.id]  # newest first


def test_an_unpaid_booking_lapses_and_frees_its_dates(market):
    _, host = market.person("host")
    _, guest = market.person()
    _, other = market.person()
    listing = market.listing(host)
    booking = market.book(guest, listing, start_in_days=30)
    expect_rpc_error("the same dates", market.book, other, listing, start_in_days=30,
                     expected=grpc.StatusCode.FAILED_PRECONDITION)
    market.advance(minutes=16)
    market.wait_status(guest, booking.id, market.b.BOOKING_STATUS_CANCELLED)
    assert market.book(other, listing, start_in_days=29).status == market.b.BOOKING_STATUS_PENDING


@pytest.mark.parametrize("policy, days_before, refunded", [
    ("flexible", 1, 30_000), ("flexible", 0, None), ("moderate", 5, 30_000), ("moderate", 4, 15_000),
    ("strict", 7, 15_000), ("strict", 6, 0),
])
def test_cancellation_refunds_follow_the_policy(market, policy, days_before, refunded):
    """A guest cancels a confirmed booking `days_before` days before check-in (None: too late)."""
    _, host = market.person("host")
    _, guest = market.person()
    listing = market.listing(host, policy=policy, price=10_000)
    booking = market.book(guest, listing, start_in_days=days_before, nights=3)
    payment = market.pay(guest, booking)
    market.wait_status(guest, booking.id, market.b.BOOKING_STATUS_CONFIRMED)
    request = market.b.CancelBookingRequest(booking_id=booking.id)
    if refunded is None:
        err = expect_rpc_error("cancel on the check-in day", market.bookings.CancelBooking, request,
                               metadata=bearer(guest), timeout=RPC_TIMEOUT,
                               expected=grpc.StatusCode.FAILED_PRECONDITION)
        assert "started" in err.details()
        return
    answer = market.bookings.CancelBooking(request, metadata=bearer(guest), timeout=RPC_TIMEOUT)
    assert answer.booking.status == market.b.BOOKING_STATUS_CANCELLED
    assert answer.refund.amount_minor == refunded
    if refunded:
        status = market.p.PAYMENT_STATUS_REFUNDED if refunded == 30_000 else market.p.PAYMENT_STATUS_PARTIALLY_REFUNDED
        assert market.wait_payment(guest, payment.id, status).refunded.amount_minor == refunded
    else:
        time.sleep(1)
        assert market.payment(guest, payment.id).status == market.p.PAYMENT_STATUS_SUCCEEDED


def test_a_hosts_cancellation_refunds_in_full(market):
    _, host = market.person("host")
    _, guest = market.person()
    booking = market.book(guest, market.listing(host, policy="strict"), start_in_days=2)
    payment = market.pay(guest, booking)
    market.wait_status(guest, booking.id, market.b.BOOKING_STATUS_CONFIRMED)
    answer = market.bookings.CancelBooking(market.b.CancelBookingRequest(booking_id=booking.id),
                                           metadata=bearer(host), timeout=RPC_TIMEOUT)
    assert answer.refund.amount_minor == booking.price.total.amount_minor
    market.wait_payment(guest, payment.id, market.p.PAYMENT_STATUS_REFUNDED)


def test_requests_to_book_accepted_declined_and_unanswered(market):
    b, p = market.b, market.p
    _, host = market.person("host")
    _, guest = market.person()
    listing = market.listing(host, mode="request")
    paid = []
    for start in (10, 20, 30):
        booking = market.book(guest, listing, start_in_days=start)
        payment = market.pay(guest, booking)
        waiting = market.wait_status(guest, booking.id, b.BOOKING_STATUS_AWAITING_HOST)
        assert waiting.HasField("host_answer_deadline")
        paid.append((booking, payment))

    expect_rpc_error("the guest accepting", market.bookings.AcceptBooking,
                     b.AcceptBookingRequest(booking_id=paid[0][0].id), metadata=bearer(guest), timeout=RPC_TIMEOUT,
                     expected=grpc.StatusCode.PERMISSION_DENIED)
    accepted = market.bookings.AcceptBooking(b.AcceptBookingRequest(booking_id=paid[0][0].id),
                                             metadata=bearer(host), timeout=RPC_TIMEOUT).booking
    assert accepted.status == b.BOOKING_STATUS_CONFIRMED
    declined = market.bookings.DeclineBooking(b.DeclineBookingRequest(booking_id=paid[1][0].id),
                                              metadata=bearer(host), timeout=RPC_TIMEOUT).booking
    assert declined.status == b.BOOKING_STATUS_DECLINED
    market.wait_payment(guest, paid[1][1].id, p.PAYMENT_STATUS_REFUNDED)
    expect_rpc_error("declining a confirmed booking", market.bookings.DeclineBooking,
                     b.DeclineBookingRequest(booking_id=paid[0][0].id), metadata=bearer(host), timeout=RPC_TIMEOUT,
                     expected=grpc.StatusCode.FAILED_PRECONDITION)

    market.advance(hours=25)  # the third was never answered
    market.wait_status(guest, paid[2][0].id, b.BOOKING_STATUS_DECLINED)
    market.wait_payment(guest, paid[2][1].id, p.PAYMENT_STATUS_REFUNDED)
    assert market.get(guest, paid[0][0].id).status == b.BOOKING_STATUS_CONFIRMED


def test_blocked_dates_refuse_bookings_until_reopened(market):
    b = market.b
    _, host = market.person("host")
    _, guest = market.person()
    listing = market.listing(host)
    block = market.bookings.BlockDates(b.BlockDatesRequest(property_id=listing.id, dates=market.dates(40, 5)),
                                       metadata=bearer(host), timeout=RPC_TIMEOUT).block
    err = expect_rpc_error("booking blocked dates", market.book, guest, listing, start_in_days=42,
                           expected=grpc.StatusCode.FAILED_PRECONDITION)
    assert "not available" in err.details()
    expect_rpc_error("a guest blocking", market.bookings.BlockDates,
                     b.BlockDatesRequest(property_id=listing.id, dates=market.dates(60, 2)), metadata=bearer(guest),
                     timeout=RPC_TIMEOUT, expected=grpc.StatusCode.PERMISSION_DENIED)
    booked = market.book(guest, listing, start_in_days=50)
    availability = market.bookings.GetAvailability(
        b.GetAvailabilityRequest(property_id=listing.id, window=market.dates(0, 366)), timeout=RPC_TIMEOUT)
    assert [blk.id for blk in availability.blocked] == [block.id]
    assert availability.booked == [booked.stay]
    expect_rpc_error("blocking booked dates", market.bookings.BlockDates,
                     b.BlockDatesRequest(property_id=listing.id, dates=market.dates(51, 1)), metadata=bearer(host),
                     timeout=RPC_TIMEOUT, expected=grpc.StatusCode.FAILED_PRECONDITION)
    market.bookings.UnblockDates(b.UnblockDatesRequest(block_id=block.id), metadata=bearer(host), timeout=RPC_TIMEOUT)
    assert market.book(guest, listing, start_in_days=42).status == b.BOOKING_STATUS_PENDING


def test_authorization_matrix(market):
    """Others' bookings and payments are NOT_FOUND; acts that are not the caller's are
    PERMISSION_DENIED; no token is UNAUTHENTICATED."""
    b, p = market.b, market.p
    _, host = market.person("host")
    _, guest = market.person()
    _, stranger = market.person()
    booking = market.book(guest, market.listing(host, mode="request"))
    payment = market.pay(guest, booking)
    market.wait_status(guest, booking.id, b.BOOKING_STATUS_AWAITING_HOST)
    calls = {
        "GetBooking": lambda md: market.bookings.GetBooking(b.GetBookingRequest(booking_id=booking.id), metadata=md,
                                                            timeout=RPC_TIMEOUT),
        "WatchBooking": lambda md: next(market.bookings.WatchBooking(b.WatchBookingRequest(booking_id=booking.id),
                                                                      metadata=md, timeout=RPC_TIMEOUT)),
        "GetPayment": lambda md: market.payments.GetPayment(p.GetPaymentRequest(payment_id=payment.id), metadata=md,
                                                            timeout=RPC_TIMEOUT),
        "ListPayments": lambda md: market.payments.ListPayments(p.ListPaymentsRequest(booking_id=booking.id),
                                                                metadata=md, timeout=RPC_TIMEOUT),
        "CreatePayment": lambda md: market.payments.CreatePayment(
            p.CreatePaymentRequest(booking_id=booking.id, payment_method_token="pm_sandbox_ok",
                                   idempotency_key=uuid.uuid4().hex, amount=booking.price.total),
            metadata=md, timeout=RPC_TIMEOUT),
        "AcceptBooking": lambda md: market.bookings.AcceptBooking(b.AcceptBookingRequest(booking_id=booking.id),
                                                                  metadata=md, timeout=RPC_TIMEOUT),
        "DeclineBooking": lambda md: market.bookings.DeclineBooking(b.DeclineBookingRequest(booking_id=booking.id),
                                                                    metadata=md, timeout=RPC_TIMEOUT),
        "CancelBooking": lambda md: market.bookings.CancelBooking(b.CancelBookingRequest(booking_id=booking.id),
                                                                  metadata=md, timeout=RPC_TIMEOUT),
    }
    for name, call in calls.items():
        expect_rpc_error(f"{name} by a stranger", call, bearer(stranger), expected=grpc.StatusCode.NOT_FOUND)
        expect_rpc_error(f"{name} with no token", call, (), expected=grpc.StatusCode.UNAUTHENTICATED)
    expect_rpc_error("the host paying", calls["CreatePayment"], bearer(host),
                     expected=grpc.StatusCode.PERMISSION_DENIED)
    for name in ("AcceptBooking", "DeclineBooking"):
        expect_rpc_error(f"{name} by the guest", calls[name], bearer(guest),
                         expected=grpc.StatusCode.PERMISSION_DENIED)
    for who in (guest, host):
        assert calls["GetBooking"](bearer(who)).booking.id == booking.id
        assert calls["GetPayment"](bearer(who)).payment.id == payment.id
    hosted = market.bookings.ListBookings(b.ListBookingsRequest(role=b.BOOKING_ROLE_HOST), metadata=bearer(host),
                                          timeout=RPC_TIMEOUT).bookings
    assert [x.id for x in hosted] == [booking.id]
    assert market.bookings.ListBookings(b.ListBookingsRequest(role=b.BOOKING_ROLE_HOST), metadata=bearer(guest),
                                        timeout=RPC_TIMEOUT).bookings == []
    trips = market.bookings.ListBookings(b.ListBookingsRequest(statuses=[b.BOOKING_STATUS_AWAITING_HOST]),
                                         metadata=bearer(guest), timeout=RPC_TIMEOUT).bookings
    assert [x.id for x in trips] == [booking.id]


def test_reviews_only_by_the_guest_of_a_completed_stay_within_the_window(market):
    """A stay is reviewed once it is COMPLETED, by its guest, within 14 days (the default) of
    check-out: the 14th day is in, the 15th out."""
    rv = market.pb.reviews_pb2
    _, host = market.person("host")
    _, guest = market.person()
    _, stranger = market.person()
    listing = market.listing(host)
    early = market.book(guest, listing, start_in_days=2, nights=2)  # checks out on day 4
    late = market.book(guest, listing, start_in_days=4, nights=2)  # on day 6
    for booking in (early, late):
        market.pay(guest, booking)
        market.wait_status(guest, booking.id, market.b.BOOKING_STATUS_CONFIRMED)

    def review(token, booking, rating=5, comment=""):
        return market.reviews.CreateReview(rv.CreateReviewRequest(booking_id=booking.id, rating=rating,
                                                                  comment=comment),
                                           metadata=bearer(token) if token else (), timeout=RPC_TIMEOUT)

    err = expect_rpc_error("a review before the stay", review, guest, early,
                           expected=grpc.StatusCode.FAILED_PRECONDITION)
    assert "COMPLETED" in err.details()
    market.advance(days=18)  # day 18: 14 days after the early check-out, 12 after the late one
    for booking in (early, late):
        market.wait_status(guest, booking.id, market.b.BOOKING_STATUS_COMPLETED)
    expect_rpc_error("the host reviewing", review, host, early, expected=grpc.StatusCode.PERMISSION_DENIED)
    expect_rpc_error("a stranger reviewing", review, stranger, early, expected=grpc.StatusCode.NOT_FOUND)
    expect_rpc_error("no token", review, None, early, expected=grpc.StatusCode.UNAUTHENTICATED)
    for rating, comment in ((0, ""), (6, ""), (5, "x" * 2_001)):
        err = expect_rpc_error(f"rating {rating}, a comment of {len(comment)}", review, guest, early, rating=rating,
                               comment=comment, expected=grpc.StatusCode.INVALID_ARGUMENT)
        assert bad_request_fields(err) == ["comment" if comment else "rating"]
    assert review(guest, early, rating=3).review.rating == 3  # the window's last day

    market.advance(days=3)  # day 21: 15 days after the late check-out
    err = expect_rpc_error("a review after the window", review, guest, late,
                           expected=grpc.StatusCode.FAILED_PRECONDITION)
    assert "within 14 days" in err.details()
    shown = market.properties.GetProperty(market.pb.properties_pb2.GetPropertyRequest(property_id=listing.id),
                                          timeout=RPC_TIMEOUT).property
    assert (shown.rating_count, shown.rating_average) == (1, 3.0)


def test_malformed_requests_name_their_fields(market):
    _, guest = market.person()
    err = expect_rpc_error("a booking with nothing", market.bookings.CreateBooking, market.b.CreateBookingRequest(),
                           metadata=bearer(guest), timeout=RPC_TIMEOUT, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["property_id", "stay.start", "stay.end", "guests"]
    err = expect_rpc_error("a payment with nothing", market.payments.CreatePayment, market.p.CreatePaymentRequest(),
                           metadata=bearer(guest), timeout=RPC_TIMEOUT, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["booking_id", "payment_method_token", "idempotency_key", "amount"]


def test_payments_survive_a_crash(pb, tmp_path):
    """SIGKILL while payments are being charged (the slow token), then a restart: every booking and
    payment that was acknowledged is there, each is charged exactly once, and the jobs finish."""
    url = own_database_url(f"marketplace_crash_{uuid.uuid4().hex[:8]}")
    # Short leases, so that the jobs the killed process held are taken again soon.
    args = ("--database-url", url, "--job-workers", "4", "--job-lease-seconds", "5")
    first = OwnServer(*args)
    market = Market(first, url, tmp_path / "unused", pb)
    _, host = market.person("host")
    _, guest = market.person()
    listing = market.listing(host)
    acknowledged = []
    for start in range(8):
        booking = market.book(guest, listing, start_in_days=10 + 5 * start)
        acknowledged.append((booking, market.pay(guest, booking, method="pm_sandbox_slow")))
    # The slow gateway is answering for the first ones now; kill the process mid-charge.
    time.sleep(1)
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    market.close()

    second = OwnServer(*args)
    try:
        market = Market(second, url, tmp_path / "unused", pb)
        for booking, payment in acknowledged:
            market.wait_payment(guest, payment.id, market.p.PAYMENT_STATUS_SUCCEEDED)
            assert market.get(guest, booking.id).status == market.b.BOOKING_STATUS_CONFIRMED
            assert market.charges(payment.id) == 1
        assert market.sql("SELECT count(*) FROM jobs WHERE kind = 'payment.process' AND state <> 'succeeded'") == "0"
        market.close()
    finally:
        second.kill()
