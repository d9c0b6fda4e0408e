"""The ``fabthread`` command. Errors become exit codes here, and only here.

Exit codes: 0 ok, 1 a check found errors / verification failed, 2 bad input (UserError or
usage), 3 internal error (a bug: rerun with -v for the traceback).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Mapping
from typing import Any

import click

from fabthread import __version__
from fabthread.errors import FabError, UserError


class FabGroup(click.Group):
    """A click group that turns fabthread errors into one line on stderr and an exit code.

    ``lazy_commands``: command name -> "module:attribute" of commands imported only when
    they run or a help page lists them, so that ``fabthread slice`` does not load the hub,
    CAM and bundle code first."""

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attribute = self.lazy_commands[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except FabError as exc:
            _internal(ctx, exc)
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that maps everything
            _internal(ctx, exc)


def _internal(ctx: click.Context, exc: BaseException) -> None:
    if logging.getLogger("fabthread").isEnabledFor(logging.INFO):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(
        f"internal error: {type(exc).__name__}: {exc} (a bug in fabthread; rerun with -v for "
        "the traceback)",
        err=True,
    )
    ctx.exit(3)


#: The commands, each imported when it runs.
COMMANDS = {
    "design": "fabthread.cli.design_cmd:design",
    "check": "fabthread.cli.check_cmd:check",
    "profile": "fabthread.cli.profile_cmd:profile",
    "make": "fabthread.cli.order_cmd:make",
    "demo": "fabthread.cli.order_cmd:demo",
    "slice": "fabthread.cli.slice_cmd:slice_",
    "cam": "fabthread.cli.cam_cmd:cam",
    "gcode": "fabthread.cli.gcode_cmd:gcode",
    "bundle": "fabthread.cli.bundle_cmd:bundle",
    "hub": "fabthread.cli.hub_cmd:hub",
    "route": "fabthread.cli.hub_cmd:route",
    "order": "fabthread.cli.hub_cmd:order",
}


@click.group(
    cls=FabGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.version_option(version=__version__, prog_name="fabthread")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """fabthread: parametric design -> checked part -> machine program -> job bundle.

    \b
    Examples:
      fabthread design list
      fabthread make examples/orders/bracket-mk4.json -o out/
      fabthread slice part.stl --machine prusa_mk4 --material pla -o part.gcode
    """
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
    logging.getLogger("fabthread").setLevel(level)
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet


def main() -> None:
    """The console entry point: the ``cli`` group, then a quick exit when it succeeded."""
    try:
        cli(prog_name="fabthread")
    except SystemExit as exc:
        if exc.code in (0, None):
            _exit_without_teardown()
        raise


def _exit_without_teardown() -> None:
    """Exit 0 at once, skipping the interpreter's teardown (freeing every module and object:
    50-70 ms after a slice, a tenth of slicing a small part), when nothing is left for it to
    do: no other thread and no child process runs (their joins are the only exit handlers a
    command leaves), and output and logs are flushed first. Otherwise return, for a normal
    exit."""
    import os
    import threading

    if threading.active_count() > 1:
        return
    # no multiprocessing child ran if it was never imported (slicing forks its own workers,
    # slice.workers, and reaps them before it returns)
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (| head): the normal exit reports it as before
        return
    logging.shutdown()
    os._exit(0)
