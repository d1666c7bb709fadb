"""Subcommands of the `hipviz` command line."""
