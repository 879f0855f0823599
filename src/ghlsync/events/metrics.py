"""Prometheus metrics of one collector, in its own registry (no module-level state).

Counters per location: accepted, delivered, dropped (by reason), retried, dead-lettered,
webhooks received/refused; gauges read from the queue at scrape time: depth and delivery lag
(age of the oldest pending event).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """The collector's counters and gauges; ``render()`` is the ``/metrics`` body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "ghlsync_events_accepted",
            "Messages acknowledged",
            ["location", "source", "type"],
            registry=r,
        )
        self.duplicates = Counter(
            "ghlsync_events_duplicate",
            "Messages acknowledged again (same messageId)",
            ["location"],
            registry=r,
        )
        self.delivered = Counter(
            "ghlsync_events_delivered", "Events delivered to HighLevel", ["location"], registry=r
        )
        self.upserts = Counter(
            "ghlsync_events_upserts", "Upserts sent (bursts coalesced)", ["location"], registry=r
        )
        self.dropped = Counter(
            "ghlsync_events_dropped",
            "Messages accepted, counted, not delivered",
            ["location", "reason"],
            registry=r,
        )
        self.retried = Counter(
            "ghlsync_events_retried",
            "Delivery attempts that will be retried",
            ["location"],
            registry=r,
        )
        self.dead = Counter(
            "ghlsync_events_dead_lettered",
            "Events moved to the dead-letter queue",
            ["location"],
            registry=r,
        )
        self.rejected_values = Counter(
            "ghlsync_events_rejected_values",
            "Trait values left out (invalid)",
            ["location", "field"],
            registry=r,
        )
        self.webhooks = Counter(
            "ghlsync_webhooks_received", "Webhook deliveries by outcome", ["outcome"], registry=r
        )
        self.depth = Gauge("ghlsync_events_queue_depth", "Pending events", ["location"], registry=r)
        self.lag = Gauge(
            "ghlsync_events_delivery_lag_seconds",
            "Age of the oldest pending event",
            ["location"],
            registry=r,
        )
        self.ack = Histogram(
            "ghlsync_events_ack_seconds",
            "Time to acknowledge a collector request",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )

    def set_depth(self, depth: dict[str, tuple[int, float | None]], known: set[str]) -> None:
        now = time.time()
        for location in known | set(depth):
            count, oldest = depth.get(location, (0, None))
            self.depth.labels(location).set(count)
            self.lag.labels(location).set(max(0.0, now - oldest) if oldest else 0.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
