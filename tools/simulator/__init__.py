"""The journey simulator: realistic, deterministic multi-channel journeys of simulated
customers as source records (docs/data.md, "Simulator").

``simulate(SimConfig(customers, days, seed, bad_rate, start))`` yields ``SimRecord``s in
event-time order; ``record.outgoing(runtime.topics)`` is what ``runtime.publisher`` (or a
raw Kafka producer: topic, key, value, headers) sends. Modules: the configuration and
rates (``config``), the chain's products, stores and people (``catalogue``), one
customer's steps journey by journey (``timeline``), the journeys per family
(``customers``, ``orders``, ``cases``), the bad records (``bad``), the stream (``stream``).
"""

from tools.simulator.bad import BAD_KINDS
from tools.simulator.config import DEFAULT_START, RATES, SimConfig
from tools.simulator.stream import SimRecord, SimSummary, simulate

__all__ = [
    "BAD_KINDS",
    "DEFAULT_START",
    "RATES",
    "SimConfig",
    "SimRecord",
    "SimSummary",
    "simulate",
]
