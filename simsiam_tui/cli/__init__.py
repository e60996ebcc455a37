"""The typer command line: thin wrappers over config, store, launch and the app (torch-free at import)."""
