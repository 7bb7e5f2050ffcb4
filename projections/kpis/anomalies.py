"""R-KPI-06: a store or agent group whose complaint rate is above the mean of its peers'
for 3 consecutive days is flagged for intervention.

Per day and per value of the dimension (a store, or an agent group) with contacts that
day: complaint rate = complaint cases opened / contacts. Its peers are the other values
with contacts that day; their mean is the plain mean of their rates. A value is *above*
on a day when it has at least one peer and its rate is strictly above the peers' mean. A
run of consecutive calendar days above is flagged from its third day on; a day without
contacts, or not above, ends the run. Contacts and cases without the dimension (no store,
no agent group) take no part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

CONSECUTIVE_DAYS = 3

Daily = tuple[str, str, int, int]
"""(day, value, complaint cases, contacts) of one value of the dimension on one day."""


def above_peers(daily: Iterable[Daily]) -> dict[str, dict[str, dict[str, Any]]]:
    """value → day → the value's rate and its peers' mean, for the days it is above."""
    by_day: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for day, value, complaints, contacts in daily:
        if value and contacts > 0:
            by_day[day][value] = (complaints, contacts)
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for day, values in by_day.items():
        if len(values) < 2:
            continue
        rates = {value: complaints / contacts for value, (complaints, contacts) in values.items()}
        total = sum(rates.values())
        for value, own in rates.items():
            peer_mean = (total - own) / (len(rates) - 1)
            if own > peer_mean:
                complaints, contacts = values[value]
                found[value][day] = {
                    "day": day,
                    "complaint_rate": own,
                    "peer_mean": peer_mean,
                    "complaint_cases": complaints,
                    "contacts": contacts,
                    "peers": len(rates) - 1,
                }
    return found


def runs(days: Iterable[str]) -> list[list[str]]:
    """Maximal runs of consecutive calendar days (ISO dates), in order."""
    found: list[list[str]] = []
    for day in sorted(days):
        if found and date.fromisoformat(found[-1][-1]) + timedelta(days=1) == date.fromisoformat(
            day
        ):
            found[-1].append(day)
        else:
            found.append([day])
    return found


def anomalies(dimension: str, daily: Iterable[Daily]) -> list[dict[str, Any]]:
    """The flagged runs (R-KPI-06): each with its days, the days flagged (the third on),
    and the rates against the peers' mean day by day."""
    flagged = []
    for value, days in sorted(above_peers(daily).items()):
        for run in runs(days):
            if len(run) >= CONSECUTIVE_DAYS:
                flagged.append(
                    {
                        "rule": "R-KPI-06",
                        "dimension": dimension,
                        "value": value,
                        "days": run,
                        "flagged_days": run[CONSECUTIVE_DAYS - 1 :],
                        "rates": [days[day] for day in run],
                    }
                )
    return flagged
