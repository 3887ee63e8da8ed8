"""A Ray cluster of one node on 127.0.0.1, on ports 8200-8299, for tests and benchmarks.

When something else holds one of those ports (another cluster, another program), the next
free block of a hundred is taken: 8300-8399, and so on up to 8999. `python -m eval.ray_cluster`
runs one until interrupted and prints its address, for trying
`rag ingest --engine ray --ray-address 127.0.0.1:8200` by hand. The cluster runs as
`ray start --head --block` in a process group of its own, and stopping it ends that group only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
FIRST_BASE, LAST_BASE, BLOCK = 8200, 8900, 100
# Each flag's port as an offset from the block's base: the GCS listens on the base itself.
_OFFSETS = {
    "--port": 0,
    "--node-manager-port": 1,
    "--object-manager-port": 2,
    "--dashboard-agent-listen-port": 4,
    "--dashboard-agent-grpc-port": 5,
    "--runtime-env-agent-port": 6,
    "--metrics-export-port": 7,
    "--dashboard-port": 8,  # the dashboard itself is off; Ray still reserves its port
    "--min-worker-port": 20,
    "--max-worker-port": 99,
}
START_SECONDS = 180.0
STOP_SECONDS = 60.0


@contextmanager
def local_cluster(cpus: int = 2) -> Iterator[str]:
    """Start a one-node Ray cluster on 127.0.0.1; yield its address; stop it and its processes."""
    ray = Path(sys.executable).with_name("ray")
    base = free_block()
    with tempfile.TemporaryDirectory(prefix="verbatim-ray-") as temp_dir:
        command = [str(ray), "start", "--head", "--block", "--node-ip-address", HOST, "--num-cpus", str(cpus)]
        command += [part for flag, offset in _OFFSETS.items() for part in (flag, str(base + offset))]
        command += ["--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp_dir]
        log = Path(temp_dir) / "ray-start.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            _wait_until_listening(process, log, base)
            yield f"{HOST}:{base}"
        finally:
            _stop(process)


def free_block() -> int:
    """The base of the first block of ports from FIRST_BASE on that nothing on HOST holds."""
    for base in range(FIRST_BASE, LAST_BASE + 1, BLOCK):
        if all(_free(port) for port in range(base, base + BLOCK)):
            return base
    raise RuntimeError(
        f"no block of {BLOCK} free ports on {HOST} between {FIRST_BASE} and {LAST_BASE + BLOCK - 1}"
    )


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_until_listening(process: subprocess.Popen[bytes], log: Path, base: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ray start exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        if all(_listening(base + _OFFSETS[flag]) for flag in ("--port", "--node-manager-port")):
            time.sleep(2.0)  # the raylet registers with the GCS just after it starts listening
            return
        time.sleep(0.5)
    raise RuntimeError(f"ray start did not listen on {HOST}:{base} within {START_SECONDS:.0f} s")


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
