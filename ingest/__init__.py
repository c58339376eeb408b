"""Ingest: MQTT in, validated readings out to the reading store, acknowledged after the write."""
