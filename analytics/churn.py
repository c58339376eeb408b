"""When a live offer is worth an ``updated`` event: the churn rule of :mod:`analytics.publish`.

Definitions (also in docs/analytics.md)
    Every analysis pass recomputes an asset's offers, and most passes move them a little: an
    ongoing idle window stretches by the time since the last pass, a refitted forecast nudges
    a quantity. Platforms follow offer events (feeds, webhooks), so each such nudge would be
    an event per offer per pass. A live, unbooked offer matched to a new one therefore keeps
    its stored window and quantity (no event) unless the change is *meaningful*:

    * the new window does not contain the stored one (an edge moved inward): always, so an
      offer never promises time the analysis gave up (planned use, blackout, busy hours);
    * the quantity changed by at least :data:`QUANTITY_SHARE` of the stored quantity;
    * an edge moved outward by at least :data:`EDGE_STEP_S`.

    Anything else the offer carries (confidence, method, listing) is compared exactly: those
    change when the owner changes them, not from pass to pass.
"""

from __future__ import annotations

#: Least relative change of quantity that is published (of the stored quantity).
QUANTITY_SHARE = 0.1
#: Least outward move of a window edge that is published, seconds.
EDGE_STEP_S = 3600.0


def meaningful_change(stored: tuple[float, float, float], new: tuple[float, float, float]
                      ) -> bool:
    """Whether offer ``stored`` = ``(start, end, quantity)`` should become ``new``.

    >>> meaningful_change((0.0, 7200.0, 10.0), (0.0, 7260.0, 10.0))  # grew by a minute
    False
    >>> meaningful_change((0.0, 7200.0, 10.0), (0.0, 3600.0, 10.0))  # halved
    True
    """
    (s0, e0, q0), (s1, e1, q1) = stored, new
    if s1 > s0 or e1 < e0:
        return True
    if q1 != q0 and abs(q1 - q0) >= QUANTITY_SHARE * abs(q0):
        return True
    return s0 - s1 >= EDGE_STEP_S or e1 - e0 >= EDGE_STEP_S
