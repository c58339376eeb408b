"""Storage ports: readings (time series) and the catalog (relational).

Readings sit behind :class:`storage.readings.ReadingStore`, with an InfluxDB adapter
(:mod:`storage.influx`) and an embedded SQLite adapter (:mod:`storage.sqlite`). The catalog of
tenants, keys, assets, idle windows and offers is SQLAlchemy (:mod:`storage.catalog`).
"""
