"""A Ray cluster of one node on 127.0.0.1, on fixed ports 8200-8299, for tests and benchmarks.

`python -m eval.ray_cluster` runs one until interrupted and prints its address, for trying
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
GCS_PORT = 8200
_PORTS = {
    "--port": GCS_PORT,
    "--node-manager-port": 8201,
    "--object-manager-port": 8202,
    "--dashboard-agent-listen-port": 8204,
    "--dashboard-agent-grpc-port": 8205,
    "--runtime-env-agent-port": 8206,
    "--metrics-export-port": 8207,
    "--dashboard-port": 8208,  # the dashboard itself is off; Ray still reserves its port
    "--min-worker-port": 8220,
    "--max-worker-port": 8299,
}
START_SECONDS = 180.0
STOP_SECONDS = 60.0


@contextmanager
def local_cluster(cpus: int = 2) -> Iterator[str]:
    """Start a one-node Ray cluster on 127.0.0.1; yield its address; stop it and its processes."""
    ray = Path(sys.executable).with_name("ray")
    with tempfile.TemporaryDirectory(prefix="verbatim-ray-") as temp_dir:
        command = [str(ray), "start", "--head", "--block", "--node-ip-address", HOST, "--num-cpus", str(cpus)]
        command += [part for flag, port in _PORTS.items() for part in (flag, str(port))]
        command += ["--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp_dir]
        log = Path(temp_dir) / "ray-start.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            _wait_until_listening(process, log)
            yield f"{HOST}:{GCS_PORT}"
        finally:
            _stop(process)


def _wait_until_listening(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ray start exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        if all(_listening(port) for port in (GCS_PORT, _PORTS["--node-manager-port"])):
            time.sleep(2.0)  # the raylet registers with the GCS just after it starts listening
            return
        time.sleep(0.5)
    raise RuntimeError(f"ray start did not listen on {HOST}:{GCS_PORT} within {START_SECONDS:.0f} s")


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
