"""The one aggregation of runs that both the roll-up job and the live reads use, so a figure
taken from roll-ups equals the same figure counted from the runs themselves: per status the
runs, the timed runs (start and end both set) and their summed duration in whole
microseconds, and a histogram of durations rounded up to two significant digits of a
millisecond (a percentile read from it is the exact percentile rounded up the same way)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MICROSECOND = timedelta(microseconds=1)
HOUR = timedelta(hours=1)


def duration_key(took_us: int) -> int:
    """The duration in milliseconds rounded up to two significant digits: 1234.5 ms → 1300."""
    ms = -(-took_us // 1000)
    if ms <= 0:
        return 0
    if ms < 100:
        return ms
    scale = 10 ** (len(str(ms)) - 2)
    return -(-ms // scale) * scale


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class Slot:
    """Runs of one status."""

    runs: int = 0
    timed: int = 0
    took_us: int = 0


@dataclass
class Tally:
    statuses: dict[str, Slot] = field(default_factory=dict)
    durations: Counter[int] = field(default_factory=Counter)

    def add(self, status: str, started: datetime | None, finished: datetime | None) -> None:
        slot = self.statuses.setdefault(status, Slot())
        slot.runs += 1
        if started is not None and finished is not None:
            took = (finished - started) // MICROSECOND
            slot.timed += 1
            slot.took_us += took
            self.durations[duration_key(took)] += 1

    def add_slot(self, status: str, runs: int, timed: int, took_us: int) -> None:
        slot = self.statuses.setdefault(status, Slot())
        slot.runs += runs
        slot.timed += timed
        slot.took_us += took_us

    def runs(self, statuses=None) -> int:
        return sum(s.runs for k, s in self.statuses.items() if statuses is None or k in statuses)

    @property
    def timed(self) -> int:
        return sum(s.timed for s in self.statuses.values())

    @property
    def took_us(self) -> int:
        return sum(s.took_us for s in self.statuses.values())

    def percentile_ms(self, share: float) -> int | None:
        """The duration key at rank ceil(share * timed runs), as the exact percentile would be
        read by offset; None without timed runs."""
        total = sum(self.durations.values())
        if not total:
            return None
        rank = max(1, -(-round(share * 1000) * total // 1000))
        seen = 0
        for key in sorted(self.durations):
            seen += self.durations[key]
            if seen >= rank:
                return key
        return None  # unreachable: rank <= total


# (created_at, status, started_at, finished_at): the only columns a tally reads.
COLUMNS = ("created_at", "status", "started_at", "finished_at")


def tally_by(rows, key) -> dict:
    """{key(created_at): Tally} over rows of COLUMNS."""
    tallies: dict = {}
    for created, status, started, finished in rows:
        slot = key(created)
        tally = tallies.get(slot)
        if tally is None:
            tally = tallies[slot] = Tally()
        tally.add(status, started, finished)
    return tallies
