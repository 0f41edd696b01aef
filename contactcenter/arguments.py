"""Argument types shared by the command lines (``contactcenter``, ``contactcenter-sim``): a
bad value is refused by argparse with the option's name, exit status 2."""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    """A whole number of at least 1 (a count of runs, users, sessions...)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return n
