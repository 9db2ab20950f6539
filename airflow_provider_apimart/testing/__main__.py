"""``python -m airflow_provider_apimart.testing``: run the APIMart simulator until Ctrl+C.

Prints the base URL and an ``AIRFLOW_CONN_APIMART_DEFAULT`` line to paste into a shell, then,
with ``--log-requests``, one line per request. A test in another process reads and steers it
through the ``/_simulator/`` endpoints.
"""

from __future__ import annotations

import argparse
import functools
import shlex
import signal
import sys
from typing import TYPE_CHECKING

from airflow_provider_apimart.testing.config import ALL_FAULTS, Fault, Outcome, SimulatorConfig
from airflow_provider_apimart.testing.server import ApimartSimulator

if TYPE_CHECKING:
    from collections.abc import Sequence


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_apimart.testing",
        description="A local APIMart API for DAG development and tests (no key, no internet, no cost).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--api-key", default=defaults.api_key, help="the key to accept (default: %(default)s)"
    )
    parser.add_argument(
        "--render-seconds",
        type=float,
        default=defaults.render_seconds,
        help="time to a finished video (default: %(default)s)",
    )
    parser.add_argument(
        "--balance", type=float, default=defaults.balance, help="starting balance (default: %(default)s)"
    )
    parser.add_argument(
        "--cost-per-video",
        type=float,
        default=defaults.cost_per_video,
        help="charge per job (default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="API calls per second before 429 (default: none)"
    )
    parser.add_argument(
        "--outcome",
        choices=[o.value for o in Outcome],
        default=defaults.default_outcome.value,
        help="how renders end",
    )
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of API calls that fail (0-1)")
    parser.add_argument(
        "--faults",
        default=",".join(f.value for f in ALL_FAULTS),
        help="which faults to inject, comma-separated: 500,502,503,drop,slow (default: all)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    parser.add_argument(
        "--result-url-ttl",
        type=float,
        default=defaults.result_url_ttl,
        help="seconds a result URL stays valid (default: %(default)s)",
    )
    parser.add_argument(
        "--renew-expired-urls",
        action="store_true",
        help="re-sign an expired result URL when the task is read again",
    )
    parser.add_argument(
        "--unlimited-quota", action="store_true", help="report an unlimited balance and never answer 402"
    )
    parser.add_argument(
        "--media-bytes",
        type=int,
        default=None,
        help="size of every result video in bytes (default: the 4.5 KB sample)",
    )
    parser.add_argument(
        "--media-content-type",
        default=defaults.media_content_type,
        help="Content-Type of result videos (default: %(default)s)",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="print '<time> <METHOD> <path> -> <status> (<ms> ms)' for each request",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = SimulatorConfig(
        api_key=args.api_key,
        render_seconds=args.render_seconds,
        balance=args.balance,
        cost_per_video=args.cost_per_video,
        rate_limit_per_second=args.rate_limit,
        default_outcome=Outcome(args.outcome),
        fault_rate=args.fault_rate,
        faults=tuple(Fault(name.strip()) for name in args.faults.split(",") if name.strip()),
        seed=args.seed,
        result_url_ttl=args.result_url_ttl,
        renew_expired_urls=args.renew_expired_urls,
        unlimited_quota=args.unlimited_quota,
        media_bytes=args.media_bytes,
        media_content_type=args.media_content_type,
    )
    request_log = functools.partial(print, flush=True) if args.log_requests else None
    # No signal handler: a handler that wakes the main thread can deadlock on the very lock the
    # main thread holds when the signal lands. Block the signals instead (the server thread
    # inherits the mask) and wait for them synchronously.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    with ApimartSimulator(config, host=args.host, port=args.port, request_log=request_log) as simulator:
        print(f"APIMart simulator listening on {simulator.base_url} (API key: {simulator.api_key})")
        for name, value in simulator.connection_env().items():
            print(f"export {name}={shlex.quote(value)}")
        print("Press Ctrl+C to stop.", flush=True)
        signal.sigwait(stop_signals)
    print("APIMart simulator stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
