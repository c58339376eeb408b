"""The idleshare edge agent: reads assets' sensors and publishes them over MQTT.

It runs on a Raspberry Pi and imports only the standard library, paho-mqtt and the stdlib-only
core of :mod:`idleshare` (errors, assets, wire).
"""
