"""``python -m airflow_provider_apimart.testing``: run the APIMart simulator until Ctrl+C.

Prints the base URL and an ``AIRFLOW_CONN_APIMART_DEFAULT`` line to paste into a shell, then,
with ``--log-requests``, one line per request. A test in another process reads and steers it
through the ``/_simulator/`` endpoints.
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import signal
import sys
from typing import TYPE_CHECKING

from airflow_provider_apimart.testing.config import DEFAULT_FAULTS, Fault, Outcome, SimulatorConfig
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
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--api-key", default=None, help=f"the key to accept (default: {defaults.api_key})")
    key.add_argument(
        "--api-key-env",
        metavar="VARIABLE",
        default=None,
        help="take the key from this environment variable and never print it (for secret keys)",
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
        default=",".join(f.value for f in DEFAULT_FAULTS),
        help="which faults to inject, comma-separated, among 429,500,502,503,reset,drop,slow "
        "(default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=defaults.slow_seconds,
        help="delay of a 'slow' fault (default: %(default)s)",
    )
    parser.add_argument(
        "--submit-hold-seconds",
        type=float,
        default=defaults.submit_hold_seconds,
        help="answer a submit that creates a job (already billed) this much later (default: %(default)s)",
    )
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
    if args.api_key_env is not None:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"--api-key-env: the environment variable {args.api_key_env} is not set", file=sys.stderr)
            return 2
    else:
        api_key = args.api_key or SimulatorConfig.api_key
    config = SimulatorConfig(
        api_key=api_key,
        render_seconds=args.render_seconds,
        balance=args.balance,
        cost_per_video=args.cost_per_video,
        rate_limit_per_second=args.rate_limit,
        default_outcome=Outcome(args.outcome),
        fault_rate=args.fault_rate,
        faults=tuple(Fault(name.strip()) for name in args.faults.split(",") if name.strip()),
        seed=args.seed,
        slow_seconds=args.slow_seconds,
        submit_hold_seconds=args.submit_hold_seconds,
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
        if args.api_key_env is not None:  # a secret: neither the banner nor the export line shows it
            print(f"APIMart simulator listening on {simulator.base_url} (API key: ${args.api_key_env})")
        else:
            print(f"APIMart simulator listening on {simulator.base_url} (API key: {simulator.api_key})")
            for name, value in simulator.connection_env().items():
                print(f"export {name}={shlex.quote(value)}")
        print("Press Ctrl+C to stop.", flush=True)
        signal.sigwait(stop_signals)
    print("APIMart simulator stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
