"""Accounts for the marketplace e2e tests: UserService calls, people of each role, status details."""

from __future__ import annotations

import os
import subprocess
import uuid

from google.rpc import error_details_pb2
from grpc_status import rpc_status

from e2e_util import RPC_TIMEOUT

PASSWORD = "correct horse battery"


def unique_email(label: str = "user") -> str:
    return f"{label}.{uuid.uuid4().hex[:12]}@Example.com"


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


class Accounts:
    """UserService calls with the details a test would otherwise repeat."""

    def __init__(self, channel, pb):
        self.pb = pb.users_pb2
        self.stub = pb.users_pb2_grpc.UserServiceStub(channel)

    def register(self, email=None, password=PASSWORD, display_name="Ann Lee", role=None, **fields):
        request = self.pb.RegisterRequest(
            email=email or unique_email(), password=password, display_name=display_name,
            role=role if role is not None else self.pb.ROLE_GUEST, **fields)
        return self.stub.Register(request, timeout=RPC_TIMEOUT).user

    def login(self, email, password=PASSWORD):
        return self.stub.Login(self.pb.LoginRequest(email=email, password=password), timeout=RPC_TIMEOUT)

    def signed_up(self, **fields):
        """A new account and a token for it."""
        user = self.register(**fields)
        return user, self.login(user.email).access_token

    def profile(self, token):
        return self.stub.GetProfile(self.pb.GetProfileRequest(), metadata=bearer(token), timeout=RPC_TIMEOUT).user


def bad_request_fields(err) -> list[str]:
    """The field paths of the google.rpc.BadRequest in the error's status details."""
    status = rpc_status.from_call(err)
    assert status is not None, "no grpc-status-details-bin"
    assert status.code == err.code().value[0] and status.message == err.details()
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            fields += [violation.field for violation in request.field_violations]
            assert all(violation.description for violation in request.field_violations)
    return fields


def set_role(email: str, role: str) -> None:
    """`marketplace-server users set-role`: the operator's command (the only way to an admin)."""
    binary, url = os.environ["MARKETPLACE_SERVER_BIN"], os.environ["MARKETPLACE_DATABASE_URL"]
    result = subprocess.run([binary, "users", "set-role", "--database-url", url, "--email", email, "--role", role],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def psql(sql: str) -> str:
    """Runs SQL on the shared server's database (test set-up the API does not offer yet)."""
    url = os.environ["MARKETPLACE_DATABASE_URL"]
    return subprocess.run(["psql", url, "-qAtc", sql], capture_output=True, text=True, check=True).stdout.strip()
