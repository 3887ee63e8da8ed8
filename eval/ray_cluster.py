"""A Ray cluster of one node on 127.0.0.1, on ports nothing else holds, for tests and benchmarks.

Every port the cluster listens on is given to `ray start` (eval/ports.py picks them: ones the
operating system picks, or ones from VERBATIM_TEST_PORTS=FIRST-LAST when that is set), its workers'
too (--worker-port-list), so two clusters started at once, or beside other servers, never reach
for the same port. When `ray start` exits before it listens (a port taken between being picked and
being bound), it is started again on other ports, twice at most; then the error says what to do.
`python -m eval.ray_cluster` runs one until interrupted and prints its address, for trying
`rag ingest --engine ray --ray-address ADDRESS` by hand. The cluster runs as
`ray start --head --block` in a process group of its own, and stopping it ends that group only.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eval.ports import HOST, TEST_PORTS, free_ports

# Each port `ray start` binds: the GCS listens on --port, which is the cluster's address.
PORT_FLAGS = (
    "--port",
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--runtime-env-agent-port",
    "--metrics-export-port",
    "--dashboard-port",  # the dashboard itself is off; Ray still reserves its port
)
# With Ray's client installed (grpcio), `ray start --head` also serves it, on 10001 unless told;
# without, the flag is refused.
CLIENT_FLAG = "--ray-client-server-port"
# Ports for worker processes: a worker takes one while it lives (Ray skips any that is taken).
WORKER_PORTS_PER_CPU = 16
START_ATTEMPTS = 3
START_SECONDS = 180.0
STOP_SECONDS = 60.0


class ExitedEarly(RuntimeError):
    """`ray start` ended before its cluster listened."""


@contextmanager
def local_cluster(cpus: int = 2) -> Iterator[str]:
    """Start a one-node Ray cluster on 127.0.0.1; yield its address; stop it and its processes."""
    with tempfile.TemporaryDirectory(prefix="verbatim-ray-") as temp_dir:
        process, address = _started(cpus, Path(temp_dir))
        try:
            yield address
        finally:
            _stop(process)


@dataclass(frozen=True)
class ClusterPorts:
    """The ports one cluster is given: one for each of `ray start`'s port flags, and its workers'."""

    flags: dict[str, int]
    workers: tuple[int, ...]

    @property
    def address(self) -> str:
        """The cluster's address: its GCS."""
        return f"{HOST}:{self.flags['--port']}"

    def all(self) -> set[int]:
        """Every port given."""
        return {*self.flags.values(), *self.workers}


def cluster_ports(cpus: int) -> ClusterPorts:
    """Free ports for a cluster of `cpus` CPUs: WORKER_PORTS_PER_CPU a CPU for its workers."""
    flags = (*PORT_FLAGS, CLIENT_FLAG) if importlib.util.find_spec("grpc") is not None else PORT_FLAGS
    picked = free_ports(len(flags) + WORKER_PORTS_PER_CPU * max(1, cpus))
    return ClusterPorts(dict(zip(flags, picked, strict=False)), tuple(picked[len(flags) :]))


def _command(cpus: int, ports: ClusterPorts, temp_dir: Path) -> list[str]:
    ray = Path(sys.executable).with_name("ray")
    command = [str(ray), "start", "--head", "--block", "--node-ip-address", HOST, "--num-cpus", str(cpus)]
    command += [part for flag, port in ports.flags.items() for part in (flag, str(port))]
    command += ["--worker-port-list", ",".join(str(port) for port in ports.workers)]
    return [*command, "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(temp_dir)]


def _started(cpus: int, temp_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`ray start` listening on freshly picked ports: again on others when it exits first."""
    for attempt in range(1, START_ATTEMPTS + 1):
        ports = cluster_ports(cpus)
        log = temp_dir / f"ray-start-{attempt}.log"
        # Ray turns token authentication on when ~/.ray/auth_token exists (an earlier ray.init
        # writes one), and `rag ingest --ray-address` does not send it: off for this loopback
        # cluster unless RAY_AUTH_MODE says otherwise.
        environment = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        with log.open("wb") as output:
            process = subprocess.Popen(
                _command(cpus, ports, temp_dir),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=environment,
            )
        try:
            _wait_until_listening(process, log, ports)
            return process, ports.address
        except ExitedEarly:
            _stop(process)
            if attempt == START_ATTEMPTS:
                raise
            print(
                f"ray start exited on the ports it was given; trying others ({attempt + 1}/{START_ATTEMPTS})",
                file=sys.stderr,
            )
        except BaseException:
            _stop(process)
            raise
    raise AssertionError("unreachable")


def _wait_until_listening(process: subprocess.Popen[bytes], log: Path, ports: ClusterPorts) -> None:
    deadline = time.monotonic() + START_SECONDS
    address = ports.address
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ExitedEarly(
                f"ray start exited with {process.returncode} before listening on {address}"
                f" ({START_ATTEMPTS} tries, each on other free ports; if ports are scarce here, name a free"
                f" range with {TEST_PORTS}=FIRST-LAST); its log ends:\n{log.read_text()[-2000:]}"
            )
        if all(_listening(ports.flags[flag]) for flag in ("--port", "--node-manager-port")):
            time.sleep(2.0)  # the raylet registers with the GCS just after it starts listening
            return
        time.sleep(0.5)
    raise RuntimeError(f"ray start did not listen on {address} within {START_SECONDS:.0f} s")


def _listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1.0).close()
    except OSError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the cluster's process group (ray start then ends its own processes), SIGKILL if slow."""
    for stop_signal, grace in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, stop_signal)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                process.wait()
                return
            process.poll()  # reap ray start itself, so the group can empty
            time.sleep(0.5)


def main() -> int:
    """Run a cluster until Ctrl-C."""
    with local_cluster() as address:
        print(f"Ray cluster at {address}; rag ingest FILES --engine ray --ray-address {address}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping the cluster", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
