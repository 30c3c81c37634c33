"""`python -m loadtests`: gevent patches the process before anything else is imported."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from loadtests.cli import main  # noqa: E402

sys.exit(main())
