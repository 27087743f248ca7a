"""Run the command line with ``python -m salesreg``."""

from salesreg.cli import main

main()
