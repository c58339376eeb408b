"""Analytics: utilisation, idle windows and offers from an asset's readings.

The rules below are shared with the API and the end-to-end tests; the code implements exactly
these.

Readings as a step function (:mod:`analytics.series`)
    Readings of an asset's primary metric (``idleshare.assets.KINDS[...].primary_metric``) form
    a step function: each reading's value holds from its timestamp until the next reading's
    timestamp. The last reading covers no time. A gap between consecutive readings longer than
    ``max_gap_s`` (default 6 h) is unknown: the earlier value does not hold across it. Of
    readings with the same timestamp the later one given wins. The free quantity of a reading
    is ``idleshare.assets.kind(k).free(value, capacity)``.

Utilisation (:func:`analytics.utilisation.utilisation_series`)
    Used fraction ``1 - free / capacity`` for every kind except ``container``, whose
    utilisation is its fill, ``fill / capacity`` (for a container, free = fill). Buckets are
    aligned to multiples of ``bucket_s`` in UTC epoch seconds and time-weighted by the step
    function; a bucket with no data has NaN utilisation; coverage is the share of the bucket
    with data.

Idle windows (:mod:`analytics.idle_windows`)
    A reading enters idle when ``free >= min_free_fraction * capacity``; once inside, the window
    continues while ``free >= (min_free_fraction - hysteresis) * capacity``. A window starts at
    the timestamp of the entering reading and ends at the timestamp of

    - the first reading that falls below the exit threshold, or
    - the last reading before a gap longer than ``max_gap_s`` (not ongoing), or
    - the last reading, if none leaves (``ongoing`` is then true).

    Windows with ``end - start < min_duration_s`` are dropped. ``min_free`` is the least free
    quantity among the readings from the entering one up to but excluding the leaving one;
    ``mean_free`` is time-weighted over ``[start, end)`` (the entering reading's value if the
    window has no length).

Offers (:mod:`analytics.offers`, seasonal naive)
    Each idle window in the lookback (closed, or the ongoing one as it stands, ending at the
    last reading) is projected forward to ``[start + k·period, end + k·period]`` for the
    smallest ``k >= 1`` with ``start + k·period >= now + lead_time_s`` (period 86400 s, lead 0).
    Quantity is ``min_free * (1 - reserve_fraction)`` rounded down to 3 decimals; an offer
    under ``min_quantity`` is skipped. Confidence is Laplace's rule of succession
    ``(hits + 1) / (n + 2)``: ``n`` counts the window itself plus each earlier period
    ``k' = 1..K`` (``K`` = whole periods in the lookback) whose same slot data covers fully,
    and ``hits`` counts the window itself plus those slots that lay entirely inside an idle
    window. A window with no earlier history therefore scores 2/3. One offer per
    ``(asset, start, end)``: of windows projecting to the same slot, the most recent wins.

Sharing policy (:mod:`analytics.policy`)
    ``analytics.policy.DEFAULT_POLICY`` merged with ``AssetRow.policy`` gives
    ``min_free_fraction``, ``min_duration_s`` (idle windows), ``reserve_fraction``,
    ``min_quantity`` (seasonal-naive offers), ``price_per_unit_hour``, ``currency`` and
    ``visibility`` (copied onto offers).

Runner (:mod:`analytics.runner`)
    For every asset: query the primary metric over the longer of the lookback and 35 days,
    find idle windows over ``[now - lookback, now)``, and make offers: from the fleet
    forecaster (:mod:`analytics.fleet`, one model per kind) when the readings reach back 14
    days, seasonal naive otherwise. Then replace the idle windows and reconcile the offers
    with bookings (:mod:`analytics.publish`), recording an offer event for every change. The
    pass reports every kind's KPIs over the lookback (:mod:`analytics.kpis`).

Forecasts, forecast offers, bookings, state inference and evaluation are defined in their
modules and in ``docs/analytics.md``.
"""
