"""Readings from an InfluxDB another tool already fills (Telegraf's ``modbus`` or
``mqtt_consumer`` output, for example), mapped to idleshare assets and metrics.

- :mod:`.mapping`: the TOML mapping file and how one row becomes readings, or rejections;
- :mod:`.queries`: the InfluxQL (1.x) and Flux (2.x) text of one time window, and their
  answers as rows;
- :mod:`.sources`: the servers: InfluxDB 1.x over ``/query``, 2.x through influxdb-client;
- :mod:`.cursor`: how far the source has been read, kept in a file that survives a crash;
- :mod:`.importer`: one pass, window by window: read, map, store, then advance the cursor.

See docs/telegraf.md.
"""
