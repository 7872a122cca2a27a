"""The report of scripts/benchmark --real-broker, side by side, from one run."""

from __future__ import annotations

from importlib import metadata
import os
import sys

from .latency_figures import GROUPS, Figures, Window
from .latency_gc import full_collections, slowest_waited
from .latency_stats import Paired, percentile, table_header
from .processes import MIB


def _versions(figures: Figures) -> str:
    hass = metadata.version("homeassistant")
    python = sys.version.split()[0]
    recorder = "on" if figures.args.recorder else "off"
    options = "; ".join(figures.args.broker_option) or "its defaults"
    return (
        f"  Home Assistant {hass}, mosquitto {figures.broker_version}"
        f" ({options}), Python {python}; {os.cpu_count()} cores,"
        f" load average {figures.load_average:.2f} as the load began;"
        f" recorder {recorder}"
    )


def _load_lines(figures: Figures) -> list[str]:
    args, plan = figures.args, figures.plan
    beats = plan.heartbeat_rate / 2
    delays = sorted(1000 * delay for delay in figures.ack_delays)
    profiled = (
        f" (then {args.profile_seconds:.0f} s more under py-spy)"
        if args.profile_seconds
        else ""
    )
    return [
        (
            f"  load: {plan.devices} devices, {plan.rooms} rooms,"
            f" {plan.rate:,.0f} msg/s for {args.seconds:.0f} s{profiled},"
            f" {args.publishers} paho publisher(s): heartbeats at QoS 0,"
            " changes at QoS 1"
        ),
        (
            "    Home Assistant subscribes at QoS 1 for voice_mqtt, at QoS"
            f" {args.handmade_qos} for the hand-made sensors"
        ),
        (
            f"    a second: {beats:,.1f} heartbeats on devices/<id>/heartbeat,"
            f" {beats:,.1f} unchanged statuses on handmade/<id>/status;"
        ),
        (
            f"    {plan.status_rate:g} status changes, each to devices/<id>/status"
            f" and handmade/<id>/status (retained); {plan.room_rate:g} room"
            " state changes"
        ),
        (
            f"  sent {figures.sent:,} of {figures.messages:,} (refused"
            f" {figures.refused}), at most {1000 * figures.late:.1f} ms behind"
            f" schedule; PUBACK {percentile(delays, 50):.1f} ms after the send at"
            f" p50, {percentile(delays, 99):.1f} ms at p99"
        ),
    ]


def _table(window: Window, *, fired: bool) -> list[str]:
    summaries = window.fired if fired else window.received
    rows = [summaries[group].row(name) for group, name in GROUPS.items()]
    return [table_header(), *rows]


def _verdict(figures: Figures) -> list[str]:
    """Say whether voice_mqtt's p99 is no worse, as far as the run can tell.

    On the same status changes, sent to both at the same moment: the p99
    difference and its bootstrap interval, against a margin (a share of the
    hand-made p99) that two equal subscribers stay within. Room changes have
    no hand-made twin; they are in the table.
    """
    interval, (voice_lost, handmade_lost) = figures.interval, figures.pair_lost
    margin = figures.args.margin / 100 * interval.second
    answer = interval.verdict(margin)
    if voice_lost > handmade_lost:
        answer = "no"
    said = {
        "yes": f"the whole interval is within the margin of {margin:+.1f} ms",
        "no": f"the whole interval is beyond the margin of {margin:+.1f} ms",
        "undecided": (
            f"the interval reaches across the margin of {margin:+.1f} ms; a longer"
            " run (--seconds) narrows it"
        ),
    }[interval.verdict(margin)]
    return [
        f"voice_mqtt's p99 is no worse than the hand-made sensors': {answer}",
        (
            f"  the same {interval.pairs:,} status changes sent to both: p99"
            f" {interval.first:.1f} ms against {interval.second:.1f} ms, a"
            f" difference of {interval.difference:+.1f} ms; its"
            f" {100 * interval.confidence:.0f} % interval is {interval.low:+.1f} to"
            f" {interval.high:+.1f} ms ({interval.resamples:,} bootstrap resamples"
            " of the pairs)"
        ),
        (
            f"  {said} ({figures.args.margin:g} % of theirs); lost: voice_mqtt"
            f" {voice_lost}, hand-made {handmade_lost}"
        ),
    ]


def _latency_lines(figures: Figures) -> list[str]:
    args = figures.args
    lines = [
        (
            "latency from the send (time.time() as paho took the message) to"
            " the state_changed event's time_fired;"
        ),
        (
            f"lost: no event within {args.timeout:g} s ({args.seconds:.0f} s"
            " measured, no profiler attached)"
        ),
        *_table(figures.windows[0], fired=True),
        _paired_line(figures.paired),
        "",
        "the same, to the websocket client's receipt instead of time_fired:",
        *_table(figures.windows[0], fired=False),
    ]
    if args.profile_seconds > 0 and len(figures.windows) > 1:
        lines += [
            "",
            f"the same load while py-spy sampled ({args.profile_seconds:.0f} s):",
            *_table(figures.windows[1], fired=True),
        ]
    return lines


def _paired_line(paired: Paired) -> str:
    return (
        f"  paired, the same change to both: voice_mqtt's minus the hand-made"
        f" latency is {paired.median:+.1f} ms at the median; in the slowest 1 %"
        f" ({paired.slowest}) voice_mqtt's was the later {paired.first_later}"
        f" times, by {paired.mean_slowest:+.1f} ms on average"
    )


def _process_lines(figures: Figures) -> list[str]:
    seconds = figures.args.seconds
    profiled = (
        f" ({figures.share('hass', 1):.1f} % under py-spy)"
        if figures.args.profile_seconds
        else ""
    )
    return [
        (
            f"Home Assistant: {figures.share('hass', 0):.1f} % of a core over the"
            f" measured {seconds:.0f} s{profiled};"
            f" RSS {figures.rss_before / MIB:.0f} MiB before,"
            f" {figures.rss_after / MIB:.0f} MiB after,"
            f" peak {figures.peak_rss / MIB:.0f} MiB"
        ),
        (
            f"mosquitto: {figures.share('broker', 0):.1f} % of a core; this"
            " process (publisher and websocket client):"
            f" {figures.share('self', 0):.1f} %"
        ),
        (
            f"state_changed events on the websocket: {figures.events:,}"
            f" ({figures.watched_events:,} of the measured entities, of which"
            f" {figures.matched.unexplained} explained by no send)"
            f"{figures.watcher_error}"
        ),
    ]


def _gc_lines(figures: Figures) -> list[str]:
    if figures.collections is None:
        return []
    began = figures.wall_start
    ended = began + figures.args.seconds
    pauses = full_collections(figures.collections, began, ended)
    young = [
        each
        for each in figures.collections
        if each.generation < 2 and began <= each.began < ended
    ]
    longest = max((each.seconds for each in pauses), default=0.0)
    waited = []
    for group, name in GROUPS.items():
        count, slowest = slowest_waited(figures.windows[0].outcomes[group], pauses)
        waited.append(f"{name} {count} of {slowest}")
    return [
        (
            f"hass's garbage collector over the measured {figures.args.seconds:.0f}"
            f" s: {len(pauses)} full collections, longest {1000 * longest:.0f} ms,"
            f" {1000 * sum(each.seconds for each in pauses):.0f} ms in all;"
            f" {len(young):,} young ones, longest"
            f" {1000 * max((each.seconds for each in young), default=0):.1f} ms"
        ),
        "  of the slowest 1 % of changes, those a full collection held up: "
        + ", ".join(waited),
    ]


def report_lines(figures: Figures) -> list[str]:
    """Return the report, side by side, from one run on one load."""
    lines = ["", "voice_mqtt end to end on a real broker", _versions(figures)]
    lines += [*_load_lines(figures), "", *_latency_lines(figures), ""]
    lines += [*_process_lines(figures), *_gc_lines(figures), ""]
    lines += _verdict(figures)
    if figures.profile is not None:
        lines += ["", *figures.profile.lines()]
    elif figures.profile_error:
        lines += ["", f"no profile: {figures.profile_error}"]
    lines += ["", f"the whole run took {figures.total_seconds:.0f} s"]
    return lines
