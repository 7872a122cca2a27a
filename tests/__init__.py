"""Tests of the voice_mqtt integration."""
