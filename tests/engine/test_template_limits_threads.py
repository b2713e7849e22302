"""A runaway template must not stall the rest of its process: the web process answers other
requests on other threads while one thread renders an analyst's template (invoke, test-run).

One thread renders the worst templates known, one after the other; a ticker thread meanwhile
wakes every millisecond and records how long it had to wait for the interpreter. Before the
limits, `((10**1000)**1000)**30` alone held the interpreter lock for over a minute."""

import threading
import time

from integrations.engine import limits
from integrations.engine.errors import TemplateFailure
from integrations.engine.templating import compile_template

from .test_template_limits import DOUBLING, SLOW, TEXT

WORST = [
    "{{ ((10**1000)**1000)**30 > 1 }}",
    "{{ '1'.zfill(10**9)|length }}",
    "{{ '1'.zfill(2*10**7) }}",
    "{{ '{0:>100000000}'.format(1) }}",
    DOUBLING,
    "{% for a in range(3000) %}{{ range(100000)|sum }}{% endfor %}",
    "{{ dict.x.mro() }}",
    SLOW,  # runs until the time limit
]
MARGIN = 0.5  # seconds past the limit a render may take to notice it (a loaded 2-core machine)
LONGEST_WAIT = 0.5  # threads switch every 5 ms; a loaded machine may not schedule the ticker at once


class Ticker(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.ticks = 0
        self.longest_wait = 0.0

    def run(self):
        last = time.perf_counter()
        while not self.stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            self.longest_wait = max(self.longest_wait, now - last)
            self.ticks += 1
            last = now


def test_worst_templates_end_in_time_and_never_stall_other_threads():
    durations: dict[str, float] = {}
    errors: dict[str, str] = {}

    def render_all():
        for source in WORST:
            started = time.perf_counter()
            try:
                compile_template(source)(TEXT)
            except TemplateFailure as exc:
                errors[source] = str(exc)
            durations[source] = time.perf_counter() - started

    ticker = Ticker()
    ticker.start()
    renderer = threading.Thread(target=render_all, daemon=True)
    started = time.perf_counter()
    renderer.start()
    renderer.join(timeout=limits.current.max_seconds * len(WORST) + 30)
    elapsed = time.perf_counter() - started
    ticker.stop.set()
    ticker.join()

    assert not renderer.is_alive(), f"still rendering after {elapsed:.0f} s"
    assert set(errors) == set(WORST), f"rendered without an error: {set(WORST) - set(errors)}"
    too_slow = {source: round(d, 2) for source, d in durations.items() if d > limits.current.max_seconds + MARGIN}
    assert not too_slow
    assert durations[SLOW] >= limits.current.max_seconds  # it really ran until the limit
    assert ticker.longest_wait < LONGEST_WAIT, f"the ticker waited {ticker.longest_wait:.2f} s for the interpreter"
    assert ticker.ticks >= elapsed / 0.05  # woke at least 20 times a second while the renders ran
