"""Config flow: user, MQTT discovery, reconfigure (namespace) and options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .compat import vol
from .const import (
    CONF_ADMIN_PREFIX,
    CONF_ADMIN_SNAPSHOT,
    CONF_BACKEND_SILENT_MINUTES,
    CONF_BASE,
    CONF_BROKER_HEALTH,
    CONF_DEVICE_PREFIX,
    CONF_FLEET_LINK,
    CONF_HEARTBEAT_TIMEOUT,
    CONF_HISTORY_TURNS,
    CONF_LEGACY_TOPICS,
    CONF_MAX_DEVICES,
    CONF_MAX_ROOMS,
    CONF_QOS,
    CONF_SESSION_PREFIX,
    CONF_STALE_DEVICE_DAYS,
    CONF_VERSION,
    CONF_WS_URL,
    CONF_XIAOZHI_PREFIX,
    DEFAULT_BACKEND_SILENT_MINUTES,
    DEFAULT_HISTORY_TURNS,
    DEFAULT_MAX_DEVICES,
    DEFAULT_MAX_ROOMS,
    DEFAULT_QOS,
    DEFAULT_STALE_DEVICE_DAYS,
    DISCOVERY_TOPICS,
    DOMAIN,
    LARGEST_MAX_DEVICES,
    LARGEST_MAX_ROOMS,
    MAX_BACKEND_SILENT_MINUTES,
    MAX_HEARTBEAT_TIMEOUT,
    MAX_HISTORY_TURNS,
    MAX_STALE_DEVICE_DAYS,
    MIN_HEARTBEAT_TIMEOUT,
)
from .hub import VoiceMqttConfigEntry
from .models.presence import DEFAULT_HEARTBEAT_TIMEOUT
from .protocol import (
    LEGACY_VERSION,
    IdentifierError,
    TopicScheme,
    is_websocket_url,
    validate_identifier,
    validate_prefix,
)

TITLE = "Voice Assistant MQTT"
_PREFIX_FIELDS = (
    CONF_BASE,
    CONF_DEVICE_PREFIX,
    CONF_SESSION_PREFIX,
    CONF_ADMIN_PREFIX,
    CONF_XIAOZHI_PREFIX,
)
_DEFAULTS = TopicScheme()


def _number(lowest: int, largest: int, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(
        min=lowest, max=largest, step=1, mode=NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _options_schema(options: Mapping[str, Any]) -> vol.Schema:
    """Return the options form, filled in with the current options."""

    def field(key: str, default: Any) -> vol.Required:
        return vol.Required(key, default=options.get(key, default))

    return vol.Schema(
        {
            field(CONF_LEGACY_TOPICS, False): BooleanSelector(),
            field(CONF_HEARTBEAT_TIMEOUT, DEFAULT_HEARTBEAT_TIMEOUT): _number(
                MIN_HEARTBEAT_TIMEOUT, MAX_HEARTBEAT_TIMEOUT, "s"
            ),
            vol.Required(
                CONF_QOS, default=str(options.get(CONF_QOS, DEFAULT_QOS))
            ): SelectSelector(
                SelectSelectorConfig(
                    options=["0", "1", "2"],
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key=CONF_QOS,
                )
            ),
            field(CONF_ADMIN_SNAPSHOT, False): BooleanSelector(),
            field(CONF_STALE_DEVICE_DAYS, DEFAULT_STALE_DEVICE_DAYS): _number(
                1, MAX_STALE_DEVICE_DAYS, "d"
            ),
            # A value stored when the cap was larger is offered as the cap.
            vol.Required(
                CONF_MAX_DEVICES,
                default=min(
                    options.get(CONF_MAX_DEVICES, DEFAULT_MAX_DEVICES),
                    LARGEST_MAX_DEVICES,
                ),
            ): _number(1, LARGEST_MAX_DEVICES),
            field(CONF_MAX_ROOMS, DEFAULT_MAX_ROOMS): _number(1, LARGEST_MAX_ROOMS),
            field(CONF_BACKEND_SILENT_MINUTES, DEFAULT_BACKEND_SILENT_MINUTES): _number(
                0, MAX_BACKEND_SILENT_MINUTES, "min"
            ),
            field(CONF_BROKER_HEALTH, False): BooleanSelector(),
            # Optional with a suggestion: cleared, the only bridge is the one.
            vol.Optional(
                CONF_FLEET_LINK,
                description={"suggested_value": options.get(CONF_FLEET_LINK, "")},
            ): TextSelector(),
            field(CONF_HISTORY_TURNS, DEFAULT_HISTORY_TURNS): _number(
                0, MAX_HISTORY_TURNS
            ),
            # Optional with a suggestion: cleared, the URL is unset.
            vol.Optional(
                CONF_WS_URL,
                description={"suggested_value": options.get(CONF_WS_URL, "")},
            ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        }
    )


def _scheme_from(data: dict[str, Any]) -> TopicScheme:
    # A version left empty (the field omitted by the form) selects legacy v0.
    return TopicScheme(
        version=data.get(CONF_VERSION, LEGACY_VERSION).strip(),
        base=data[CONF_BASE].strip(),
        device_prefix=data[CONF_DEVICE_PREFIX].strip(),
        session_prefix=data[CONF_SESSION_PREFIX].strip(),
        admin_prefix=data[CONF_ADMIN_PREFIX].strip(),
        xiaozhi_prefix=data[CONF_XIAOZHI_PREFIX].strip(),
    )


def _scheme_data(scheme: TopicScheme) -> dict[str, str]:
    return {
        CONF_VERSION: scheme.version,
        CONF_BASE: scheme.base,
        CONF_DEVICE_PREFIX: scheme.device_prefix,
        CONF_SESSION_PREFIX: scheme.session_prefix,
        CONF_ADMIN_PREFIX: scheme.admin_prefix,
        CONF_XIAOZHI_PREFIX: scheme.xiaozhi_prefix,
    }


def _title(scheme: TopicScheme) -> str:
    if scheme.voice_root == _DEFAULTS.voice_root:
        return TITLE
    return f"{TITLE} ({scheme.voice_root})"


def _namespace_schema(values: dict[str, str]) -> vol.Schema:
    fields: dict[Any, Any] = {
        # Optional with a suggestion, not a default: clearing the field must
        # be able to select the legacy layout (no version level).
        vol.Optional(
            CONF_VERSION, description={"suggested_value": values[CONF_VERSION]}
        ): TextSelector(),
    }
    for key in _PREFIX_FIELDS:
        fields[vol.Required(key, default=values[key])] = TextSelector()
    return vol.Schema(fields)


class VoiceMqttConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a voice fleet namespace."""

    VERSION = 1

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: VoiceMqttConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return VoiceMqttOptionsFlow()

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the namespace."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        values = _scheme_data(_DEFAULTS)
        if user_input is not None:
            values = {**values, CONF_VERSION: "", **user_input}
            scheme, errors = self._validate(user_input)
            if scheme is not None:
                await self.async_set_unique_id(scheme.voice_root)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_title(scheme), data=_scheme_data(scheme)
                )
        return self.async_show_form(
            step_id="user", data_schema=_namespace_schema(values), errors=errors
        )

    @override
    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """Offer the default namespace when its traffic shows up."""
        if discovery_info.subscribed_topic not in DISCOVERY_TOPICS:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(_DEFAULTS.voice_root)
        self._abort_if_unique_id_configured()
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the discovered fleet."""
        if user_input is not None:
            return self.async_create_entry(
                title=_title(_DEFAULTS), data=_scheme_data(_DEFAULTS)
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={"topic": _DEFAULTS.voice_root},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the namespace of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        values = {**_scheme_data(_DEFAULTS), **entry.data}
        if user_input is not None:
            values = {**values, CONF_VERSION: "", **user_input}
            scheme, errors = self._validate(user_input, exclude=entry.entry_id)
            if scheme is not None:
                if scheme.voice_root != entry.unique_id:
                    await self.async_set_unique_id(scheme.voice_root)
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=scheme.voice_root,
                    title=_title(scheme),
                    data=_scheme_data(scheme),
                )
        return self.async_show_form(
            step_id="reconfigure", data_schema=_namespace_schema(values), errors=errors
        )

    def _validate(
        self, user_input: dict[str, Any], exclude: str | None = None
    ) -> tuple[TopicScheme | None, dict[str, str]]:
        """Check every field; return the scheme or the errors by field."""
        errors: dict[str, str] = {}
        scheme = _scheme_from(user_input)
        if scheme.version != LEGACY_VERSION:
            try:
                validate_identifier(scheme.version)
            except IdentifierError:
                errors[CONF_VERSION] = "invalid_version"
        for key, value in _scheme_data(scheme).items():
            if key == CONF_VERSION:
                continue
            try:
                validate_prefix(value)
            except IdentifierError:
                errors[key] = "invalid_prefix"
        if CONF_DEVICE_PREFIX not in errors and any(
            entry.data.get(CONF_DEVICE_PREFIX) == scheme.device_prefix
            for entry in self._async_current_entries(include_ignore=False)
            if entry.entry_id != exclude
        ):
            # Two entries reading one device prefix would double every device.
            errors[CONF_DEVICE_PREFIX] = "device_prefix_in_use"
        return (None if errors else scheme), errors


class VoiceMqttOptionsFlow(OptionsFlowWithReload):
    """How the entry behaves; the entry reloads when they change."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the options."""
        errors: dict[str, str] = {}
        if user_input is not None and (
            link := str(user_input.get(CONF_FLEET_LINK) or "").strip()
        ):
            try:
                validate_identifier(link)
            except IdentifierError:
                errors[CONF_FLEET_LINK] = "invalid_fleet_link"
        if (
            user_input is not None
            and (url := str(user_input.get(CONF_WS_URL) or "").strip())
            and not is_websocket_url(url)
        ):
            errors[CONF_WS_URL] = "invalid_ws_url"
        if user_input is not None and not errors:
            user_input[CONF_FLEET_LINK] = str(
                user_input.get(CONF_FLEET_LINK) or ""
            ).strip()
            # Empty: no voice server, no buttons.
            if url := str(user_input.pop(CONF_WS_URL, None) or "").strip():
                user_input[CONF_WS_URL] = url
            # Selectors hand back strings and floats; the hub wants numbers.
            user_input[CONF_QOS] = int(user_input[CONF_QOS])
            for key in (
                CONF_STALE_DEVICE_DAYS,
                CONF_MAX_DEVICES,
                CONF_MAX_ROOMS,
                CONF_BACKEND_SILENT_MINUTES,
            ):
                user_input[key] = int(user_input[key])
            return self.async_create_entry(data=user_input)
        schema = _options_schema(
            self.config_entry.options if user_input is None else user_input
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)
