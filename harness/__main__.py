"""`python -m harness` is `archbench`."""

from harness.cli import main

main()
