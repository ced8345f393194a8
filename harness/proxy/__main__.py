"""`python -m harness.proxy`: run the Toxiproxy-compatible fault proxy server."""

import sys

from harness.proxy.server import main

sys.exit(main())
