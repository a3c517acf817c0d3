"""python -m mock_server → cli.main()."""

import sys

from .cli import main

sys.exit(main())
