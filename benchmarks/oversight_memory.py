"""Memory of the audit's oversight fold per household: the fold takes in every household
of the ledger, so at city scale what it keeps per household decides the audit's RSS.
Households as an import makes them (three to five members, an eligibility decision, one
in five updated) are generated one at a time, decoded from their canonical bytes and
folded as the service folds sealed leaves. Printed: the Python objects the fold keeps
(tracemalloc), the growth of the process's peak RSS (which also counts SQLite's page
cache, where the households live), and the fold's time per household.

    .venv/bin/python -m benchmarks.oversight_memory [--households 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
import tracemalloc

from benchmarks.projections import household_events
from services.audit.domain.oversight.fold import Oversight
from shared.events import Envelope, public_view

MIB = 2**20


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also count Python objects")
    args = parser.parse_args()
    n = args.households
    rng = random.Random(1)
    gc.collect()
    if args.tracemalloc:
        tracemalloc.start()
    fold = Oversight()
    rss_before = peak_rss()
    traced_before = tracemalloc.get_traced_memory()[0]
    idx = 0
    folding = 0.0
    for i in range(n):
        for event in household_events(rng, i):
            body, view = event.canonical(), public_view(event)
            started = time.perf_counter()
            fold.apply(idx, Envelope.model_validate_json(body), view)
            folding += time.perf_counter() - started
            idx += 1
    gc.collect()
    grown = peak_rss() - rss_before
    print(f"oversight fold of {n:,} households ({idx:,} leaves)")
    print(f"  peak RSS grew by            : {grown / MIB:7.1f} MiB ({grown / n:6.0f} B/household)")
    if args.tracemalloc:
        kept = tracemalloc.get_traced_memory()[0] - traced_before
        per = kept / n
        print(f"  Python objects kept          : {kept / MIB:7.1f} MiB ({per:6.0f} B/household)")
    print(f"  fold time                    : {folding / idx * 1e6:7.1f} µs/leaf")
    print(f"  findings, times              : {len(fold.findings())}, {len(fold.times())}")


if __name__ == "__main__":
    main()
