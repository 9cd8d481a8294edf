"""One module per ``mlobs`` subcommand; see ``mlobs_notebook.cli``."""
