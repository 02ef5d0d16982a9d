"""Run the platform as its own OS process (so tests can SIGKILL it), printing its URL on stdout.

    python -m tests.robustness.platform_process DATABASE [TENANT ...]
"""
from __future__ import annotations

import sys

from mock_platform import PlatformConfig, create_app, start_in_thread


def main() -> None:
    database, tenants = sys.argv[1], tuple(sys.argv[2:]) or ("0301",)
    server = start_in_thread(create_app(PlatformConfig(database=database, tenants=tenants, auth="off-dev")))
    print(server.url, flush=True)
    server.thread.join()


if __name__ == "__main__":
    main()
