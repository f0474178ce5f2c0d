"""Run one service under uvicorn: `python -m shared.serve <name>` (what `bansos up`
starts), or `python -m services.<name>`."""

from __future__ import annotations

import logging
import sys

import uvicorn

from shared.settings import InsecureSettings
from shared.spec import ServiceSpec, discover


def serve(spec: ServiceSpec) -> None:
    try:
        settings = spec.settings()
        app = spec.app(settings)
    except (InsecureSettings, ValueError) as exc:  # a setting to fix: say which, no trace
        sys.exit(f"{spec.name} cannot start: {exc}")
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {spec.name} %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # The app decides whom to believe about the client (BANSOS_TRUSTED_PROXIES), not
        # uvicorn, which by default believes anyone on 127.0.0.1.
        proxy_headers=False,
    )


if __name__ == "__main__":
    specs = discover()
    if len(sys.argv) != 2 or sys.argv[1] not in specs:
        sys.exit(f"usage: python -m shared.serve {{{','.join(specs)}}}")
    serve(specs[sys.argv[1]])
