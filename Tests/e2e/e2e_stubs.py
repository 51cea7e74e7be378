"""Generate and import Python stubs for the gRPC interop protos at test time.

The .proto files come from Debian's ``grpc-proto`` package
(``/usr/share/grpc-proto``, override with ``GRPC_PROTO_DIR``). Nothing generated
here is written inside the repository: stubs go to a temporary directory.

The generated modules live in the ``grpc.*`` package namespace
(``grpc.testing.test_pb2`` ...), which collides with the grpcio runtime package
``grpc``. We therefore append the generated ``grpc`` directory to
``grpc.__path__`` so ``grpc.testing``, ``grpc.health.v1`` and
``grpc.reflection.v1`` resolve to the generated code while ``grpc`` itself stays
the runtime.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types
from pathlib import Path

PROTO_DIR = Path(os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto"))
# Our own contracts, compiled exactly as a client of ours would compile them.
OUR_PROTO_DIR = Path(__file__).resolve().parents[2] / "Protos"

PROTO_FILES = [
    "grpc/testing/empty.proto",
    "grpc/testing/messages.proto",
    "grpc/testing/test.proto",
    "grpc/testing/benchmark_service.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
]


class StubGenerationError(RuntimeError):
    pass


def _grpc_tools_include() -> str:
    import grpc_tools  # noqa: WPS433 (import inside function on purpose)

    return str(Path(grpc_tools.__file__).parent / "_proto")


def generate(out_dir: Path, proto_files=PROTO_FILES) -> None:
    """Run grpc_tools.protoc on the interop protos, writing into out_dir."""
    missing = [p for p in proto_files if not (PROTO_DIR / p).is_file()]
    if missing:
        raise StubGenerationError(
            f"interop .proto files not found under {PROTO_DIR}: {missing}. "
            "Install Debian's grpc-proto package (apt-get install -y grpc-proto) "
            "or set GRPC_PROTO_DIR."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{_grpc_tools_include()}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *proto_files,
    ]
    ours = sorted(str(p.relative_to(OUR_PROTO_DIR)) for p in OUR_PROTO_DIR.rglob("*.proto"))
    our_cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{OUR_PROTO_DIR}",
        f"-I{_grpc_tools_include()}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *ours,
    ]
    for command in (cmd, our_cmd):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise StubGenerationError(
                f"protoc failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr}"
            )


def load(out_dir: Path) -> types.SimpleNamespace:
    """Import the generated modules from out_dir and return them by short name."""
    import grpc

    generated_grpc = str(out_dir / "grpc")
    if generated_grpc not in grpc.__path__:
        grpc.__path__.append(generated_grpc)
    # grpcio's __init__ aliases grpc.health / grpc.reflection to the grpcio-health-checking
    # and grpcio-reflection packages when those are installed; drop such aliases so the
    # names resolve to the stubs generated here.
    for alias in ("grpc.health", "grpc.reflection", "grpc.testing"):
        module = sys.modules.get(alias)
        if module is not None and module.__name__ != alias:
            del sys.modules[alias]
    if str(out_dir) not in sys.path:
        sys.path.append(str(out_dir))

    def imp(name: str):
        return importlib.import_module(name)

    return types.SimpleNamespace(
        empty_pb2=imp("grpc.testing.empty_pb2"),
        messages_pb2=imp("grpc.testing.messages_pb2"),
        test_pb2=imp("grpc.testing.test_pb2"),
        test_pb2_grpc=imp("grpc.testing.test_pb2_grpc"),
        benchmark_pb2=imp("grpc.testing.benchmark_service_pb2"),
        benchmark_pb2_grpc=imp("grpc.testing.benchmark_service_pb2_grpc"),
        health_pb2=imp("grpc.health.v1.health_pb2"),
        health_pb2_grpc=imp("grpc.health.v1.health_pb2_grpc"),
        reflection_v1_pb2=imp("grpc.reflection.v1.reflection_pb2"),
        reflection_v1_pb2_grpc=imp("grpc.reflection.v1.reflection_pb2_grpc"),
        reflection_v1alpha_pb2=imp("grpc.reflection.v1alpha.reflection_pb2"),
        reflection_v1alpha_pb2_grpc=imp("grpc.reflection.v1alpha.reflection_pb2_grpc"),
        common_pb2=imp("marketplace.v1.common_pb2"),
        properties_pb2=imp("marketplace.v1.properties_pb2"),
        properties_pb2_grpc=imp("marketplace.v1.properties_pb2_grpc"),
        users_pb2=imp("marketplace.v1.users_pb2"),
        users_pb2_grpc=imp("marketplace.v1.users_pb2_grpc"),
        bookings_pb2=imp("marketplace.v1.bookings_pb2"),
        bookings_pb2_grpc=imp("marketplace.v1.bookings_pb2_grpc"),
        payments_pb2=imp("marketplace.v1.payments_pb2"),
        payments_pb2_grpc=imp("marketplace.v1.payments_pb2_grpc"),
        reviews_pb2=imp("marketplace.v1.reviews_pb2"),
        reviews_pb2_grpc=imp("marketplace.v1.reviews_pb2_grpc"),
    )
