"""The RPC side of `Scripts/bench --database` for calls h2load cannot make: a booking and its
cancellation (the second call needs the first's answer), and WatchBooking's delivery latency.

  bench-client.py guest   --target HOST:PORT                  -> GUEST_ID=... GUEST_TOKEN=...
  bench-client.py booking --target ... --token T --property ID --clients N --seconds S
  bench-client.py watch   --target ... --token T --property ID --watchers N --bookings M --psql CMD

A stock grpcio client (asyncio), with stubs compiled from Protos/ as any client of ours would
(Tests/e2e/e2e_stubs.py). Each prints one line of key=value results on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import datetime
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "e2e"))
import e2e_stubs  # noqa: E402

CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0),
                   # A connection of each channel's own, as h2load's and pgbench's clients have.
                   ("grpc.use_local_subchannel_pool", 1)]
TIMEOUT = 30.0
# The server's default SETTINGS_MAX_CONCURRENT_STREAMS is 100: watchers share channels by fifties.
WATCHERS_PER_CHANNEL = 50


def load_stubs():
    out = Path(tempfile.mkdtemp(prefix="bench-stubs-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    e2e_stubs.generate(out)
    return e2e_stubs.load(out)


pb = load_stubs()


def bearer(token: str):
    return (("authorization", f"Bearer {token}"),)


def channel(target: str):
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)


def stay(first: datetime.date):
    """Four nights from `first`."""
    date = pb.common_pb2.LocalDate
    last = first + datetime.timedelta(days=4)
    return pb.common_pb2.DateRange(start=date(year=first.year, month=first.month, day=first.day),
                                   end=date(year=last.year, month=last.month, day=last.day))


# A booking client's stays: one of 300 years of its own (no two clients ever overlap), and a
# week in it, at random: the same dates booked and cancelled again and again would pile dead
# entries up in the exclusion constraint's index, which each new booking then checks.
SLOTS_PER_CLIENT = 300 * 52


def client_stay(client: int, slot: int):
    return stay(datetime.date(3000 + client * 300 + slot // 52, 1, 1) + datetime.timedelta(weeks=slot % 52))


def summary(samples_us: list[float], seconds: float) -> str:
    samples_us.sort()
    if not samples_us:
        sys.exit("no call completed")
    p99 = samples_us[min(len(samples_us) - 1, int(len(samples_us) * 0.99))]
    return (f"transactions={len(samples_us)} tps={len(samples_us) / seconds:.1f} "
            f"mean_us={sum(samples_us) / len(samples_us):.1f} p99_us={p99:.0f} max_us={samples_us[-1]:.0f}")


async def guest(args) -> None:
    """Registers a guest and signs in: the seeded users have no password that signs in."""
    async with channel(args.target) as ch:
        users = pb.users_pb2_grpc.UserServiceStub(ch)
        email, password = f"bench.{uuid.uuid4().hex[:12]}@example.com", "bench password 1"
        user = (await users.Register(pb.users_pb2.RegisterRequest(
            email=email, password=password, display_name="Bench Guest", role=pb.users_pb2.ROLE_GUEST),
            timeout=TIMEOUT)).user
        token = (await users.Login(pb.users_pb2.LoginRequest(email=email, password=password),
                                   timeout=TIMEOUT)).access_token
        print(f"GUEST_ID={user.id} GUEST_TOKEN={token}")


async def booking(args) -> None:
    """`clients` callers, each on a connection of its own, book a stay and cancel it, again and
    again for `seconds`: a booking transaction is the two calls."""
    b = pb.bookings_pb2
    end = time.monotonic() + args.seconds

    async def client(index: int) -> list[float]:
        samples = []
        async with channel(args.target) as ch:
            stub = pb.bookings_pb2_grpc.BookingServiceStub(ch)
            while time.monotonic() < end:
                request = b.CreateBookingRequest(property_id=args.property, guests=2,
                                                 stay=client_stay(index, random.randrange(SLOTS_PER_CLIENT)))
                start = time.perf_counter()
                made = (await stub.CreateBooking(request, metadata=bearer(args.token), timeout=TIMEOUT)).booking
                cancelled = (await stub.CancelBooking(b.CancelBookingRequest(booking_id=made.id),
                                                      metadata=bearer(args.token), timeout=TIMEOUT)).booking
                if cancelled.status != b.BOOKING_STATUS_CANCELLED:
                    sys.exit(f"booking {made.id} is {b.BookingStatus.Name(cancelled.status)} after CancelBooking")
                samples.append((time.perf_counter() - start) * 1e6)
        return samples

    started = time.monotonic()
    results = await asyncio.gather(*(client(i) for i in range(args.clients)))
    print(summary([s for samples in results for s in samples], time.monotonic() - started))


async def watch(args) -> None:
    """`watchers` WatchBooking streams over `bookings` bookings; once each has its first state,
    counts the database's connections (`--psql`), then cancels the bookings one after another.
    A change's delay is from the moment its CancelBooking was sent (its commit comes before the
    answer, so this bounds the delay after the commit) to a watcher receiving it."""
    b = pb.bookings_pb2
    channels = [channel(args.target) for _ in range(-(-args.watchers // WATCHERS_PER_CHANNEL))]
    stubs = [pb.bookings_pb2_grpc.BookingServiceStub(ch) for ch in channels]
    md = bearer(args.token)
    made = [(await stubs[0].CreateBooking(
        b.CreateBookingRequest(property_id=args.property, stay=stay(datetime.date(4000 + i, 7, 1)), guests=2),
        metadata=md,
        timeout=TIMEOUT)).booking for i in range(args.bookings)]
    sent_at: dict[str, float] = {}
    ready = 0
    all_ready = asyncio.Event()
    delays_us: list[float] = []

    async def watcher(index: int) -> None:
        nonlocal ready
        booking = made[index % len(made)]
        call = stubs[index // WATCHERS_PER_CHANNEL].WatchBooking(b.WatchBookingRequest(booking_id=booking.id),
                                                                 metadata=md, timeout=300)
        states = []
        async for update in call:
            received = time.perf_counter()
            states.append(update.booking.status)
            if len(states) == 1:
                ready += 1
                if ready == args.watchers:
                    all_ready.set()
            elif update.booking.status == b.BOOKING_STATUS_CANCELLED:
                delays_us.append((received - sent_at[booking.id]) * 1e6)
        if states != [b.BOOKING_STATUS_PENDING, b.BOOKING_STATUS_CANCELLED] or await call.code() != grpc.StatusCode.OK:
            sys.exit(f"watcher {index}: states {states}, status {await call.code()}")

    def connections() -> int:
        query = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        return int(subprocess.run([*shlex.split(args.psql), "-Atc", query], check=True, capture_output=True,
                                  text=True).stdout.strip())

    before = connections()
    tasks = [asyncio.create_task(watcher(i)) for i in range(args.watchers)]
    await asyncio.wait_for(all_ready.wait(), TIMEOUT)
    during = connections()
    booking_stub = stubs[0]
    for booking in made:
        sent_at[booking.id] = time.perf_counter()
        await booking_stub.CancelBooking(b.CancelBookingRequest(booking_id=booking.id), metadata=md, timeout=TIMEOUT)
        await asyncio.sleep(0.02)  # one change at a time
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    for ch in channels:
        await ch.close()
    delays_us.sort()
    if len(delays_us) != args.watchers:
        sys.exit(f"{len(delays_us)} of {args.watchers} watchers saw their booking cancelled")
    pick = lambda q: delays_us[min(len(delays_us) - 1, int(len(delays_us) * q))]  # noqa: E731
    print(f"watchers={args.watchers} bookings={args.bookings} connections_before={before} "
          f"connections_watching={during} p50_us={pick(0.5):.0f} p99_us={pick(0.99):.0f} max_us={delays_us[-1]:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("guest", "booking", "watch"):
        command = sub.add_parser(name)
        command.add_argument("--target", required=True)
        if name != "guest":
            command.add_argument("--token", required=True)
            command.add_argument("--property", required=True)
    sub.choices["booking"].add_argument("--clients", type=int, default=16)
    sub.choices["booking"].add_argument("--seconds", type=float, default=10)
    sub.choices["watch"].add_argument("--watchers", type=int, default=2000)
    sub.choices["watch"].add_argument("--bookings", type=int, default=100)
    sub.choices["watch"].add_argument("--psql", required=True, help="a psql command line on the server's database")
    args = parser.parse_args()
    asyncio.run({"guest": guest, "booking": booking, "watch": watch}[args.command](args))


if __name__ == "__main__":
    main()
