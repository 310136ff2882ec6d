"""Container health check: ``python -m domain.probe`` exits 0 when this service is ready.

It asks the service's own readiness endpoint on ``127.0.0.1:$PORT``; the path depends on the
service (``$SERVICE``): each answers under the prefix the gateway routes to it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

READINESS_PATHS = {
    "admin": "/admin/health/ready",
    "rest": "/api/health/ready",
    "graphql": "/graphql/health/ready",
}


def main() -> int:
    path = os.environ.get("HEALTHCHECK_PATH") or READINESS_PATHS.get(os.environ.get("SERVICE", ""))
    if path is None:
        print("probe: set SERVICE or HEALTHCHECK_PATH", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"probe: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
