"""ZetaSQL's local service (the GoogleSQL front end BigQuery is built on): fetched once into
a cache, started on a free port, spoken to over gRPC.

The Linux x86-64 server and its `.proto` files come from the npm package
`@fivetrandevelopers/zetasql` (PACKAGE), fetched with `npm pack` and checked against its
published sha512 before anything is unpacked. Only the server and the protos are kept, in
`$XDG_CACHE_HOME/contact-events/zetasql-<version>/` (`~/.cache/...` by default); the Python
gRPC stubs are generated from those protos with grpcio-tools into a folder of the cache
named after grpcio-tools' version (generated code must match the protobuf runtime, so
nothing generated is committed). A second run finds everything there and fetches nothing.
A lock file beside the cache keeps two processes from fetching at once.

Anything missing (npm, the network, a checksum) is `Unavailable` with one line saying what
to do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType

PACKAGE = "@fivetrandevelopers/zetasql"
VERSION = "1.13.0"
# npm's `dist.integrity` of the version above: the tarball is checked before it is unpacked
INTEGRITY = (
    "sha512-yX9Apa968np2Tc+Hrf4Bf6Gz77kQVLIDLaNwovM91VBwyDTDF1C6oglUqmlU6Fe5"
    "/TVCExsnIueWiPahrYEITQ=="
)
SERVER = "package/lib/zetasql/remote_server.so"
PROTOS = "package/lib/zetasql/protos/"
FETCH_SECONDS = 900  # npm pack of a 111 MB tarball on a slow line
START_SECONDS = 30


class Unavailable(RuntimeError):
    """The analyzer cannot be fetched or started here; the message says what to do."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "contact-events" / f"zetasql-{VERSION}"


def ensure() -> Path:
    """The cache folder holding `remote_server.so` and `protos/`, fetched if missing."""
    folder = cache_dir()
    if (folder / "remote_server.so").exists():
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / "remote_server.so").exists():
            _fetch(folder)
    return folder


def _fetch(folder: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(
            f"npm is not installed: the GoogleSQL gate fetches {PACKAGE}@{VERSION} with "
            "`npm pack` (Debian/Ubuntu: apt-get install npm)"
        )
    print(f"fetching {PACKAGE}@{VERSION} (111 MB, once) into {folder}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".zetasql-") as tmp:
        try:
            done = subprocess.run(  # noqa: S603 - a fixed command
                [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=FETCH_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"`npm pack {PACKAGE}@{VERSION}` took over {FETCH_SECONDS}s: check the network"
            ) from None
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            why = (done.stderr.strip().splitlines() or ["no tarball written"])[-1]
            raise Unavailable(
                f"`npm pack {PACKAGE}@{VERSION}` failed ({why}): the GoogleSQL gate needs the "
                "npm registry once; its cache then serves every run"
            )
        (tarball,) = tarballs
        digest = hashlib.sha512()
        with tarball.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        found = "sha512-" + base64.b64encode(digest.digest()).decode()
        if found != INTEGRITY:
            raise Unavailable(f"{tarball.name} is not {PACKAGE}@{VERSION} (sha512 differs)")
        staging = Path(tmp) / "zetasql"
        with tarfile.open(tarball) as archive:
            members = [
                m for m in archive.getmembers() if m.name == SERVER or m.name.startswith(PROTOS)
            ]
            archive.extractall(staging, members=members, filter="data")
        (staging / SERVER).rename(staging / "remote_server.so")
        (staging / PROTOS).rename(staging / "protos")
        shutil.rmtree(staging / "package")
        (staging / "remote_server.so").chmod(0o755)
        if folder.exists():  # a half-made folder of a killed run
            shutil.rmtree(folder)
        staging.rename(folder)


def stubs(folder: Path) -> Path:
    """Python modules for the protos (generated once per grpcio-tools version)."""
    from importlib.metadata import version

    out = folder / f"python-grpcio-tools-{version('grpcio-tools')}"
    if (out / "local_service_pb2_grpc.py").exists():
        return out
    from filelock import FileLock

    with FileLock(str(out) + ".lock"):
        if (out / "local_service_pb2_grpc.py").exists():
            return out
        import grpc_tools
        from grpc_tools import protoc

        protos = folder / "protos"
        files = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
        well_known = Path(grpc_tools.__file__).parent / "_proto"
        with tempfile.TemporaryDirectory(dir=folder, prefix=".stubs-") as tmp:
            generated = Path(tmp) / "python"
            generated.mkdir()
            for args in (
                ["--python_out", str(generated), *files],
                ["--grpc_python_out", str(generated), "local_service.proto"],
            ):
                code = protoc.main(["protoc", f"-I{protos}", f"-I{well_known}", *args])
                if code != 0:
                    raise Unavailable(f"grpcio-tools could not compile {protos} (exit {code})")
            if out.exists():
                shutil.rmtree(out)
            generated.rename(out)
    return out


def modules(folder: Path) -> dict[str, ModuleType]:
    """The generated modules the gate uses, imported from the stubs folder."""
    path = str(stubs(folder))
    if path not in sys.path:
        sys.path.insert(0, path)
    import local_service_pb2
    import local_service_pb2_grpc
    from zetasql.proto import options_pb2 as analyzer_options_pb2
    from zetasql.proto import simple_catalog_pb2
    from zetasql.public import options_pb2, parse_resume_location_pb2, simple_table_pb2, type_pb2

    return {
        "local_service": local_service_pb2,
        "local_service_grpc": local_service_pb2_grpc,
        "analyzer_options": analyzer_options_pb2,
        "simple_catalog": simple_catalog_pb2,
        "options": options_pb2,
        "parse_resume_location": parse_resume_location_pb2,
        "simple_table": simple_table_pb2,
        "type": type_pb2,
    }


class LocalService:
    """`remote_server.so localhost PORT` as a child process; `.stub` talks to it."""

    def __init__(self, folder: Path) -> None:
        import grpc

        self.pb = modules(folder)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - the cached server, fixed arguments
            [str(folder / "remote_server.so"), "localhost", str(port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.channel = grpc.insecure_channel(
            f"localhost:{port}", options=[("grpc.max_receive_message_length", -1)]
        )
        started = time.monotonic()
        try:
            grpc.channel_ready_future(self.channel).result(timeout=START_SECONDS)
        except grpc.FutureTimeoutError:
            self.stop()
            raise Unavailable(
                f"the ZetaSQL server in {folder} did not listen within {START_SECONDS}s "
                "(it needs Linux x86-64 and glibc)"
            ) from None
        self.started_in = time.monotonic() - started
        self.stub = self.pb["local_service_grpc"].ZetaSqlLocalServiceStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            self.log.close()
