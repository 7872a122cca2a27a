"""Simulate a voice fleet on an MQTT broker: devices, and a backend that talks.

Every device has its own MQTT connection with a real Last Will: it announces
itself, keeps a retained status, sends heartbeats and events, answers play,
pause, stop, join and leave commands, and (voice boxes) prints the ws_start
messages sent to its xiaozhi MAC. The backend runs conversations in rooms, in
the order of protocol.md, and prints the display actions others send.

Examples:
  python -m simulator
  python -m simulator --host 192.168.1.10 --username sim --password secret
  python -m simulator --username voice_backend --password s1 --device-password s2
  python -m simulator --devices 12 --rooms 4 --drop-interval 60 --seed 7
  python -m simulator --version '' --quiet          # the legacy v0 layout
  python -m simulator --also-legacy --duration 120  # v1 and v0, for two minutes
  python -m simulator --clock-skew -1.5  # the wake-word service's clock behind

Ctrl-C stops cleanly: every connection sends a DISCONNECT, so the broker
publishes no Last Will; subscribers see the devices go quiet instead.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import logging
import signal
import sys
import threading
from types import FrameType

from .options import OptionError, SimulatorOptions
from .runtime import BrokerAddress
from .script import DEFAULT_XIAOZHI_MAC, voice_box_count
from .simulation import Simulator
from .wire import protocol


def _parser() -> argparse.ArgumentParser:
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=lines[0],
        epilog="\n".join(lines[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    broker = parser.add_argument_group("broker")
    broker.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    broker.add_argument(
        "--port", type=int, help="default: 1883, or 9001 with --transport websockets"
    )
    broker.add_argument(
        "--transport",
        choices=("tcp", "websockets"),
        default="tcp",
        help="websockets: MQTT over WebSocket, as browser clients connect"
        " (default: %(default)s)",
    )
    broker.add_argument(
        "--ws-path", default="/mqtt", help="WebSocket path (default: %(default)s)"
    )
    broker.add_argument("--username", help="the backend's, and the devices' too")
    broker.add_argument("--password")
    broker.add_argument(
        "--device-password",
        help="every device logs in as its own id (a MAC without its colons) "
        "with this password, for per-device ACLs (docs/broker-acl.md)",
    )

    fleet = parser.add_argument_group("fleet")
    fleet.add_argument(
        "--devices",
        type=int,
        default=3,
        help="devices, types in turn: voice_box, vr, browser (default: %(default)s)",
    )
    fleet.add_argument(
        "--heartbeat",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="between heartbeats, 0: none (default: %(default)s)",
    )
    fleet.add_argument(
        "--event-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="mean time between events of a device, 0: none (default: %(default)s)",
    )
    fleet.add_argument(
        "--drop-interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="mean time between connections killed in the fleet, so that the "
        "broker sends a Last Will; 0: none (default: %(default)s)",
    )
    fleet.add_argument(
        "--drop-duration",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="how long a dropped device stays away (default: %(default)s)",
    )
    fleet.add_argument(
        "--xiaozhi-mac",
        action="append",
        metavar="MAC",
        help="a MAC whose ws_start messages a voice box prints; repeatable "
        f"(default: {DEFAULT_XIAOZHI_MAC} when there is a voice box)",
    )

    backend = parser.add_argument_group("voice backend")
    backend.add_argument(
        "--rooms", type=int, default=2, help="rooms (default: %(default)s)"
    )
    backend.add_argument(
        "--conversation-interval",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="mean time between conversations in a room, 0: none "
        "(default: %(default)s)",
    )
    backend.add_argument(
        "--interim-rate",
        type=float,
        default=12.0,
        metavar="PER_SECOND",
        help="interim transcripts (default: %(default)s)",
    )
    backend.add_argument(
        "--chunk-rate",
        type=float,
        default=25.0,
        metavar="PER_SECOND",
        help="streamed response chunks (default: %(default)s)",
    )
    backend.add_argument(
        "--clock-skew",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how far the wake-word service's clock (wake_detected, listening, "
        "transcripts) is ahead of the gateway's (the rest), negative: behind "
        "(default: %(default)s)",
    )
    backend.add_argument(
        "--phase-pause",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="between the other steps of a conversation (default: %(default)s)",
    )

    topics = parser.add_argument_group("topics")
    topics.add_argument(
        "--version",
        default=protocol.DEFAULT_VERSION,
        help="voice topic version, '' for the legacy v0 layout (default: %(default)s)",
    )
    topics.add_argument(
        "--also-legacy",
        action="store_true",
        help="migration mode: every voice message also goes out on v0",
    )
    for flag, default in (
        ("--base", protocol.DEFAULT_BASE),
        ("--device-prefix", protocol.DEFAULT_DEVICE_PREFIX),
        ("--session-prefix", protocol.DEFAULT_SESSION_PREFIX),
        ("--admin-prefix", protocol.DEFAULT_ADMIN_PREFIX),
        ("--xiaozhi-prefix", protocol.DEFAULT_XIAOZHI_PREFIX),
    ):
        topics.add_argument(flag, default=default, help="default: %(default)s")

    run = parser.add_argument_group("run")
    run.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop after this long, 0: at Ctrl-C (default: %(default)s)",
    )
    run.add_argument("--seed", type=int, help="for reproducible choices")
    run.add_argument(
        "--quiet",
        action="store_true",
        help="print only what is received: commands, ws_start, display actions",
    )
    return parser


def parse_args(
    argv: Sequence[str] | None = None,
) -> tuple[SimulatorOptions, float]:
    """Return the options and the duration, or exit with a usage error."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.duration < 0:
        parser.error("argument --duration: must be 0 or more")
    macs = args.xiaozhi_mac
    if macs is None:
        macs = [DEFAULT_XIAOZHI_MAC] if voice_box_count(args.devices) else []
    options = SimulatorOptions(
        broker=BrokerAddress(
            args.host,
            _port(args.port, args.transport),
            args.username,
            args.password,
            transport=args.transport,
            ws_path=args.ws_path,
        ),
        device_password=args.device_password,
        scheme=protocol.TopicScheme(
            version=args.version,
            base=args.base,
            device_prefix=args.device_prefix,
            session_prefix=args.session_prefix,
            admin_prefix=args.admin_prefix,
            xiaozhi_prefix=args.xiaozhi_prefix,
        ),
        also_legacy=args.also_legacy,
        devices=args.devices,
        rooms=args.rooms,
        xiaozhi_macs=tuple(macs),
        heartbeat=args.heartbeat,
        conversation_interval=args.conversation_interval,
        interim_rate=args.interim_rate,
        chunk_rate=args.chunk_rate,
        phase_pause=args.phase_pause,
        clock_skew=args.clock_skew,
        drop_interval=args.drop_interval,
        drop_duration=args.drop_duration,
        event_interval=args.event_interval,
        seed=args.seed,
        quiet=args.quiet,
    )
    try:
        return options.validated(), args.duration
    except OptionError as err:
        parser.error(f"argument --{err.option}: {err.message}")


def _port(given: int | None, transport: str) -> int:
    if given is not None:
        return given
    return 9001 if transport == "websockets" else 1883


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until Ctrl-C, SIGTERM or the end of --duration."""
    options, duration = parse_args(argv)
    # Only problems: failed timers, and errors paho caught in callbacks.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    simulator = Simulator(options)
    done = threading.Event()

    def on_sigterm(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    scheme = options.scheme
    simulator.console.note(
        f"simulating {options.devices} device(s) and {options.rooms} room(s) on "
        f"{options.broker}, voice topics under {scheme.voice_root}/"
        + (f" and {scheme.legacy().voice_root}/" if options.also_legacy else "")
        + (
            f", the wake-word service's clock {options.clock_skew:+g} s"
            if options.clock_skew
            else ""
        )
    )
    try:
        simulator.start()
        done.wait(duration or None)
    except TimeoutError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    simulator.console.note("stopped cleanly: no Last Will was sent")
    return 0
