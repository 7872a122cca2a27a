"""A real Home Assistant process, restarted: the conversation history is still there."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from devkit.broker import Broker
from devkit.hass.api import wait_until_listening, wait_until_running
from devkit.hass.start import set_up_voice_mqtt, start_hass, start_scratch_hass
from devkit.processes import stop_process
from simulator import BrokerAddress, Simulator, SimulatorOptions

from .conftest import eventually, kept_turns


def test_the_history_survives_a_real_restart(tmp_path: Path) -> None:
    with ExitStack() as stack:
        broker = stack.enter_context(Broker(tmp_path / "broker"))
        api, hass = start_scratch_hass(
            stack, tmp_path / "ha", tool="tests/e2e", name="restart"
        )
        set_up_voice_mqtt(api, {}, broker.port, "tester")
        simulator = Simulator(
            SimulatorOptions(
                broker=BrokerAddress(port=broker.port),
                devices=0,
                xiaozhi_macs=(),
                rooms=1,
                heartbeat=0,
                conversation_interval=0,
                event_interval=0,
                phase_pause=0.01,
                interim_rate=500,
                chunk_rate=500,
                quiet=True,
            )
        )
        simulator.start()
        stack.callback(simulator.stop)
        session = simulator.run_conversation("living_room", streamed=True)
        before = eventually(
            lambda: kept_turns(api), lambda turns: len(turns) == 1, "one turn kept"
        )
        assert before[0]["session_id"] == session
        assert before[0]["answer"]

        # Stopped as a user's host stops it (SIGTERM), started again.
        stop_process(hass)
        config_dir = tmp_path / "ha" / "config"
        again = start_hass(config_dir, tmp_path / "ha" / "again.out", "--skip-pip")
        stack.callback(stop_process, again, 30)
        api.wait_until_up(300, again)
        wait_until_listening(api)
        wait_until_running(api)
        assert kept_turns(api) == before
