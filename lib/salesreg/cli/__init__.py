"""The ``salesreg`` command line: one module per command, shared options in ``options``."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
