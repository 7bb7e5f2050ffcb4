"""The benchmark's table and the profile summary, as plain text."""

from __future__ import annotations

import pstats
from dataclasses import dataclass
from pathlib import Path

from bench import memory
from bench.cpu import Usage

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """One measured rate: ``records`` processed in ``seconds`` once the clock started."""

    label: str
    records: int
    seconds: float
    note: str = ""
    usage: Usage | None = None
    peak_kib: int | None = None
    """Peak resident set of the process that did the work (the largest member's for a
    group), KiB."""

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Ratio:
    label: str
    value: float | None
    goal: float | None = None

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        if self.value is None:
            return f"goal ≥ {self.goal:.2f}x: not measured"
        met = "met" if self.value >= self.goal else "MISSED"
        return f"goal ≥ {self.goal:.2f}x: {met}"


def ratio(label: str, top: Figure | None, bottom: Figure | None, goal: float | None) -> Ratio:
    if top is None or bottom is None or not top.records or not bottom.records:
        return Ratio(label, None, goal)
    return Ratio(label, top.rate / bottom.rate, goal)


def _cpu(figure: Figure) -> str:
    """CPU ms per event of the consumer(s), PostgreSQL and Kafka; cores used by the rest of
    the host; how busy the host was."""
    u = figure.usage
    if u is None or not figure.records:
        return f"{'':>37}"
    per = 1000 / figure.records
    return (
        f"{u.ingest * per:>6.3f} {u.postgres * per:>6.3f} {u.kafka * per:>6.3f}"
        f" {u.other / figure.seconds:>7.2f} {100 * u.host_busy:>8.0f}%"
    )


def ceiling(single: Figure | None, members: int, cores: int) -> str:
    """How far the host lets a group go beyond one member: the single-member run kept
    some cores busy (its consumer, PostgreSQL, Kafka); a group cannot keep more than all
    of them busy. Other load on the host lowers this further."""
    if single is None or single.usage is None or not single.seconds:
        return ""
    u = single.usage
    busy = (u.ingest + u.postgres + u.kafka) / single.seconds
    if not busy:
        return ""
    bound = min(float(members), cores / busy)
    return (
        f"{single.label} kept {busy:.2f} cores busy ({u.ingest / single.seconds:.2f} in the"
        f" consumer); on {cores} cores a group can reach at most {bound:.2f}x one member"
    )


def table(figures: list[Figure], ratios: list[Ratio]) -> list[str]:
    width = max(len(f.label) for f in figures)
    lines = [
        f"{'':<{width}}  {'':>9}  {'':>7}  {'':>7}  {'CPU ms per event':^20} {'rest':>7}"
        f" {'host':>9}  {'peak':>5}",
        f"{'measurement':<{width}}  {'events/s':>9}  {'events':>7}  {'seconds':>7}"
        f"  {'ours':>6} {'pg':>6} {'kafka':>6} {'(cores)':>7} {'busy':>9}  {'MiB':>5}  note",
        f"{'-' * width}  {'-' * 9}  {'-' * 7}  {'-' * 7}  {'-' * 37}  {'-' * 5}  ----",
    ]
    for f in figures:
        lines.append(
            f"{f.label:<{width}}  {f.rate:>9,.0f}  {f.records:>7,}  {f.seconds:>7.2f}"
            f"  {_cpu(f)}  {memory.mib(f.peak_kib):>5}  {f.note}"
        )
    lines.append("")
    rwidth = max(len(r.label) for r in ratios)
    for r in ratios:
        value = "n/a" if r.value is None else f"{r.value:.3f}x"
        lines.append(f"{r.label:<{rwidth}}  {value:>7}  {r.verdict}")
    return lines


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    path = Path(filename)
    if path.is_relative_to(REPO):
        path = path.relative_to(REPO)
    elif "site-packages" in path.parts:
        path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    return f"{path}:{line}({name})"


def profile_summary(stats: pstats.Stats, top: int = 20) -> list[str]:
    """The entries with most own time and most cumulative time, as shares of the total."""
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    by_own = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    by_cumulative = sorted(raw.items(), key=lambda item: item[1][3], reverse=True)[: top + 10]
    lines = [f"profile: {total:.2f} s inside Python functions (cProfile, wall clock)", ""]
    lines.append(f"top {top} by own time:   own%  cum%    calls  function")
    for key, (_, calls, own, cumulative, _) in by_own:
        lines.append(
            f"  {100 * own / total:>27.1f}  {100 * cumulative / total:>4.0f}  {calls:>7}"
            f"  {_where(key)}"
        )
    lines += ["", f"top {top + 10} by cumulative time:  cum%  own%    calls  function"]
    for key, (_, calls, own, cumulative, _) in by_cumulative:
        lines.append(
            f"  {100 * cumulative / total:>30.1f}  {100 * own / total:>4.1f}  {calls:>7}"
            f"  {_where(key)}"
        )
    return lines


def goal_entry(
    goal: str, figure: str, baseline: str, ratio: float | None, met: bool | None
) -> dict[str, object]:
    """One goal of issue 18 as a benchmark's summary carries it to ``bench.suite``:
    what is asked, the figure, its baseline in the same run, the ratio, the verdict."""
    verdict = "not measured" if met is None else ("met" if met else "MISSED")
    return {
        "goal": goal,
        "figure": figure,
        "baseline": baseline,
        "ratio": ratio,
        "verdict": verdict,
    }
