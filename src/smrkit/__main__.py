"""Allow ``python -m smrkit``."""

from smrkit.cli.main import main

main()
