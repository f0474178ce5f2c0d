"""`python -m shared ...` is the `bansos` command (for child processes of `bansos up`)."""

from shared.cli import app

app(prog_name="bansos")
