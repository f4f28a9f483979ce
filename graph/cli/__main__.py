"""`python -m nexa_research.cli`: the same as the `nexa` command."""

from nexa_research.cli import main

main()
