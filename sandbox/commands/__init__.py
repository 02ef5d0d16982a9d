"""Subcommands of `sandkasse`, one module each, discovered by sandbox.cli."""
