"""`simsiam-tui serve`: the same app in a browser tab (textual-serve), bound to this machine unless asked otherwise.

Each browser tab gets its own app process, started the launcher's one way (launch/spawn.py): `python -P`,
PYTHONSAFEPATH, a PYTHONPATH without the runs root, `/` as its working folder.
"""

from __future__ import annotations

import ipaddress
import os
import shlex

import typer

from simsiam_tui.cli.common import RunsOption, UserError, err_console
from simsiam_tui.store import runs_root

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.1, ::1, localhost)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    public_url: str | None = typer.Option(
        None, "--public-url", help="The address the browser uses, when not http://HOST:PORT (another tunnel port)."
    ),
    runs: str | None = RunsOption,
) -> None:
    """Serve the app to a browser: on a login node, open it through an ssh tunnel (see the README)."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError("serve needs textual-serve: pip install textual-serve") from None
    from simsiam_tui.launch.spawn import SAFE_CWD, python_argv, safe_env

    root = runs_root(runs)  # absolute: the app processes start in SAFE_CWD
    if not is_loopback(host):
        err_console.print(
            f"warning: listening on {host}: anyone who can reach port {port} can launch, stop and delete runs "
            "as you. An ssh tunnel to 127.0.0.1 keeps it yours.",
            markup=False,
        )
    command = shlex.join(python_argv("simsiam_tui.cli", "--runs", str(root)))
    env = safe_env(dict(os.environ), [root])
    os.environ.clear()  # textual-serve gives each app process a copy of this environment
    os.environ.update(env)
    os.chdir(SAFE_CWD)
    url = public_url or f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    err_console.print(f"simsiam-tui on {url}  (runs: {root}; Ctrl+C stops)", markup=False)
    Server(command, host=host, port=port, title="simsiam-tui", public_url=url).serve()


def register(app: typer.Typer) -> None:
    """Add `serve` to the root app."""
    app.command("serve")(serve)
