"""Memory of the audit's oversight fold per household: the fold keeps every household
in memory (issue 12), so at city scale its size per household is the audit's RSS.
Registered households (three to five members each, as an import makes them) are decoded
from their canonical bytes and folded, as the service folds sealed leaves; tracemalloc
counts what the fold keeps.

    .venv/bin/python -m benchmarks.oversight_memory [--households 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import tracemalloc

from benchmarks.projections import household_events
from services.audit.domain.oversight.fold import Oversight
from shared.events import Envelope, public_view


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    n = parser.parse_args().households
    rng = random.Random(1)
    registered = [household_events(rng, i)[0] for i in range(n)]
    views = [public_view(e) for e in registered]
    bodies = [e.canonical() for e in registered]
    del registered
    gc.collect()
    tracemalloc.start()
    fold = Oversight()
    before = tracemalloc.get_traced_memory()[0]
    for i, (body, view) in enumerate(zip(bodies, views, strict=True)):
        fold.apply(i, Envelope.model_validate_json(body), view)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    print(f"oversight fold: {kept / n:6.0f} bytes per registered household ({n:,} households)")
    print(f"  at 1,000,000 households     : {kept / n * 1e6 / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
