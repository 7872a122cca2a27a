"""End-to-end tests: a real broker, Home Assistant's real MQTT client, no mocks."""
