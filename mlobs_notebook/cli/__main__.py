"""``python -m mlobs_notebook.cli``: the ``mlobs`` command without the console script."""

import sys

from mlobs_notebook.cli import main

sys.exit(main())
