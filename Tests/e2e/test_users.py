"""marketplace.v1.UserService through grpcio: registration, sign-in, profiles, tokens, throttling.

Every test registers accounts of its own (unique emails), so tests share the server and its
database without seeing each other's data. Scripts/test starts the shared server with a high
per-address sign-in limit (every test signs in from 127.0.0.1); the address limit itself is
tested on a server of the test's own.
"""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from accounts import PASSWORD, Accounts, bad_request_fields, bearer, psql, set_role, unique_email
from e2e_util import RPC_TIMEOUT, expect_rpc_error

@pytest.fixture
def accounts(channel, pb):
    return Accounts(channel, pb)


def test_register_sign_in_and_read_the_profile(accounts, pb):
    email = unique_email("ann")
    user = accounts.register(email=f"  {email} ", display_name="  Ann Lee ", phone="+33 1 23 45 67 89",
                             role=pb.users_pb2.ROLE_HOST)
    local, domain = email.split("@")
    assert user.email == f"{local}@{domain.lower()}"
    assert user.display_name == "Ann Lee" and user.phone == "+33 1 23 45 67 89"
    assert user.role == pb.users_pb2.ROLE_HOST and str(uuid.UUID(user.id)) == user.id
    assert user.created_at.seconds > 1_700_000_000

    signed_in = accounts.login(email.upper())  # emails match case-insensitively
    assert signed_in.user == user
    assert signed_in.access_token.startswith("mkp_") and len(signed_in.access_token) == 47
    assert signed_in.expires_at.seconds > time.time() + 3600
    assert accounts.profile(signed_in.access_token) == user


def test_registration_rules_name_every_field(accounts, pb):
    err = expect_rpc_error(
        "bad registration", accounts.register, email="not-an-email", password="short", display_name=" ",
        phone="call me", role=pb.users_pb2.ROLE_ADMIN, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["email", "password", "display_name", "phone", "role"]
    assert "email" in err.details()

    email = unique_email()
    err = expect_rpc_error("password equal to the email", accounts.register, email=email, password=email.upper(),
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["password"]
    err = expect_rpc_error("1,025-byte password", accounts.register, password="x" * 1025,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["password"]
    # Ten Unicode scalars are enough, whatever their byte count.
    accounts.register(password="ü" * 10)


def test_an_email_is_taken_case_insensitively(accounts):
    email = unique_email()
    accounts.register(email=email)
    err = expect_rpc_error("same email, other case", accounts.register, email=email.upper(),
                           expected=grpc.StatusCode.ALREADY_EXISTS)
    assert email.lower() not in err.details().lower()


def test_wrong_password_and_unknown_email_look_the_same(accounts):
    user = accounts.register()
    wrong = expect_rpc_error("wrong password", accounts.login, user.email, "wrong password!",
                             expected=grpc.StatusCode.UNAUTHENTICATED)
    unknown = expect_rpc_error("unknown email", accounts.login, unique_email("nobody"), PASSWORD,
                               expected=grpc.StatusCode.UNAUTHENTICATED)
    assert wrong.details() == unknown.details()
    assert wrong.trailing_metadata() == unknown.trailing_metadata()

    # Both cost a password verification (tens of milliseconds of Argon2id), not a bare lookup.
    def seconds(email, password):
        start = time.perf_counter()
        expect_rpc_error("timed sign-in", accounts.login, email, password, expected=grpc.StatusCode.UNAUTHENTICATED)
        return time.perf_counter() - start

    other = accounts.register()
    wrong_times = [seconds(other.email, "wrong password!") for _ in range(3)]
    unknown_times = [seconds(unique_email("nobody"), PASSWORD) for _ in range(3)]
    assert statistics.median(unknown_times) > 0.5 * statistics.median(wrong_times), (wrong_times, unknown_times)


def test_protected_methods_refuse_every_bad_token_alike(accounts, pb):
    user, token = accounts.signed_up()
    stub, req = accounts.stub, pb.users_pb2.GetProfileRequest()
    forged = "mkp_" + "A" * 43
    cases = {
        "no token": (),
        "not bearer": (("authorization", f"Basic {token}"),),
        "malformed": (("authorization", "Bearer not-a-token"),),
        "unknown": bearer(forged),
        "two tokens": (("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")),
    }
    messages = set()
    for what, metadata in cases.items():
        err = expect_rpc_error(what, stub.GetProfile, req, metadata=metadata, timeout=RPC_TIMEOUT,
                               expected=grpc.StatusCode.UNAUTHENTICATED)
        messages.add(err.details())
    assert len(messages) == 1, messages
    # The scheme is case-insensitive (RFC 7235).
    assert stub.GetProfile(req, metadata=(("authorization", f"bearer {token}"),), timeout=RPC_TIMEOUT).user == user


def test_logout_revokes_that_token_at_once(accounts, pb):
    user, token = accounts.signed_up()
    other_session = accounts.login(user.email).access_token
    accounts.stub.Logout(pb.users_pb2.LogoutRequest(), metadata=bearer(token), timeout=RPC_TIMEOUT)
    expect_rpc_error("profile after logout", accounts.profile, token, expected=grpc.StatusCode.UNAUTHENTICATED)
    expect_rpc_error("second logout", accounts.stub.Logout, pb.users_pb2.LogoutRequest(), metadata=bearer(token),
                     timeout=RPC_TIMEOUT, expected=grpc.StatusCode.UNAUTHENTICATED)
    assert accounts.profile(other_session) == user


def test_update_profile_applies_the_mask(accounts, pb):
    users = pb.users_pb2
    user, token = accounts.signed_up(phone="+1 555 0100")

    def update(paths, **fields):
        request = users.UpdateProfileRequest(user=users.User(**fields))
        request.update_mask.paths.extend(paths)
        return accounts.stub.UpdateProfile(request, metadata=bearer(token), timeout=RPC_TIMEOUT)

    renamed = update(["display_name"], display_name=" Ann B. ", phone="+1 999", email="x@y.z")
    assert renamed.user.display_name == "Ann B." and renamed.user.phone == "+1 555 0100"
    assert renamed.user.email == user.email and list(renamed.updated_fields) == ["display_name"]
    assert renamed.user.updated_at.ToNanoseconds() >= user.updated_at.ToNanoseconds()

    cleared = update(["phone", "phone"], phone="")
    assert cleared.user.phone == "" and list(cleared.updated_fields) == ["phone"]

    nothing = update([], display_name="Ignored")
    assert nothing.user == cleared.user and list(nothing.updated_fields) == []
    assert accounts.profile(token) == cleared.user

    for paths in (["email"], ["role"], ["nickname"]):
        err = expect_rpc_error(f"mask {paths}", update, paths, expected=grpc.StatusCode.INVALID_ARGUMENT)
        assert bad_request_fields(err) == ["update_mask"] and paths[0] in err.details()
    err = expect_rpc_error("blank name", update, ["display_name"], display_name=" ",
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["user.display_name"]


def test_change_password_signs_out_every_other_session(accounts, pb):
    users = pb.users_pb2
    user, token = accounts.signed_up()
    elsewhere = accounts.login(user.email).access_token

    def change(current, new, with_token=token):
        return accounts.stub.ChangePassword(
            users.ChangePasswordRequest(current_password=current, new_password=new),
            metadata=bearer(with_token), timeout=RPC_TIMEOUT)

    expect_rpc_error("wrong current password", change, "not the password", "a new password!",
                     expected=grpc.StatusCode.PERMISSION_DENIED)
    err = expect_rpc_error("unchanged password", change, PASSWORD, PASSWORD, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert bad_request_fields(err) == ["new_password"]
    assert accounts.profile(elsewhere) == user  # refusals change nothing

    change(PASSWORD, "a new password!")
    assert accounts.profile(token).id == user.id  # this session goes on
    expect_rpc_error("other session", accounts.profile, elsewhere, expected=grpc.StatusCode.UNAUTHENTICATED)
    expect_rpc_error("old password", accounts.login, user.email, PASSWORD, expected=grpc.StatusCode.UNAUTHENTICATED)
    assert accounts.login(user.email, "a new password!").user.id == user.id


def test_repeated_failures_for_one_email_are_throttled_without_revealing_it(accounts):
    user = accounts.register()
    for email in (user.email, unique_email("nobody")):
        for _ in range(5):
            expect_rpc_error("failure", accounts.login, email, "wrong password!",
                             expected=grpc.StatusCode.UNAUTHENTICATED)
        throttled = expect_rpc_error("throttled", accounts.login, email, PASSWORD,
                                     expected=grpc.StatusCode.RESOURCE_EXHAUSTED)
        trailers = dict(throttled.trailing_metadata())
        assert 1 <= int(trailers["retry-after-seconds"]) <= 15 * 60
        status = rpc_status.from_call(throttled)
        retry = error_details_pb2.RetryInfo()
        assert any(detail.Unpack(retry) for detail in status.details)
        assert retry.retry_delay.seconds == int(trailers["retry-after-seconds"])
    # Other accounts are not affected.
    other = accounts.register()
    assert accounts.login(other.email).user.id == other.id


def test_failures_from_one_address_are_throttled(own_server, pb):
    server = own_server("--sign-in-failures-per-address", "3")
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        accounts = Accounts(channel, pb)
        for _ in range(3):
            expect_rpc_error("failure", accounts.login, unique_email("nobody"), PASSWORD,
                             expected=grpc.StatusCode.UNAUTHENTICATED)
        user = accounts.register()
        err = expect_rpc_error("throttled address", accounts.login, user.email, PASSWORD,
                               expected=grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert "retry-after-seconds" in dict(err.trailing_metadata())
    assert server.terminate_and_wait() == 0
    log = "".join(server.log)
    assert PASSWORD not in log and user.email not in log


def test_a_saturated_hashing_pool_fails_fast(own_server, pb):
    server = own_server("--password-hash-threads", "1", "--password-hash-queue", "0")
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        accounts = Accounts(channel, pb)

        def attempt(_):
            try:
                accounts.register()
                return "ok"
            except grpc.RpcError as err:
                return err.code()

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count("ok") >= 1
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in outcomes
    assert set(outcomes) <= {"ok", grpc.StatusCode.RESOURCE_EXHAUSTED}, outcomes


def test_a_stronger_hash_setting_rehashes_at_sign_in(accounts, own_server, pb):
    user = accounts.register()

    def stored_hash():
        return psql(f"SELECT password_hash FROM users WHERE id = '{user.id}'")

    assert stored_hash().startswith("$argon2id$v=19$m=65536,")
    server = own_server("--password-hash-strength", "moderate")
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        assert Accounts(channel, pb).login(user.email).user.id == user.id
    assert stored_hash().startswith("$argon2id$v=19$m=262144,")
    assert accounts.login(user.email).user.id == user.id  # still the same password


def test_admins_are_made_by_the_operator_command(accounts, pb):
    user, token = accounts.signed_up()
    set_role(user.email.upper(), "admin")
    assert accounts.profile(token).role == pb.users_pb2.ROLE_ADMIN
    with pytest.raises(AssertionError, match="no account"):
        set_role(unique_email(), "admin")
