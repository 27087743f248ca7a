"""salesreg: keep a sales team's Excel deal register fresh.

The library never imports click; the command line lives in ``salesreg.cli``.
"""

__version__ = "0.1.0"
