"""`python -m sereno`: the same as the `sereno` command (workers are started this way by the server)."""

from sereno.cli import main

main()
