"""The `sereno` command's groups, one module each; `sereno.cli` assembles them."""
