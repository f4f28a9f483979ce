"""`python -m nexa_research.cli`: the same as the `nexa` command."""

from nexa_research.cli import main

if __name__ == "__main__":
    main()
