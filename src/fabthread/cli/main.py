"""The ``fabthread`` command. Errors become exit codes here, and only here.

Exit codes: 0 ok, 1 a check found errors / verification failed, 2 bad input (UserError or
usage), 3 internal error (a bug: rerun with -v for the traceback).
"""

from __future__ import annotations

import logging
import sys

import click

from fabthread import __version__
from fabthread.errors import FabError, UserError


class FabGroup(click.Group):
    """A click group that turns fabthread errors into one line on stderr and an exit code."""

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


@click.group(cls=FabGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def _register() -> None:
    from fabthread.cli import (
        bundle_cmd,
        cam_cmd,
        check_cmd,
        design_cmd,
        gcode_cmd,
        hub_cmd,
        order_cmd,
        profile_cmd,
        slice_cmd,
    )

    cli.add_command(design_cmd.design)
    cli.add_command(check_cmd.check)
    cli.add_command(profile_cmd.profile)
    cli.add_command(order_cmd.make)
    cli.add_command(order_cmd.demo)
    cli.add_command(slice_cmd.slice_)
    cli.add_command(cam_cmd.cam)
    cli.add_command(gcode_cmd.gcode)
    cli.add_command(bundle_cmd.bundle)
    cli.add_command(hub_cmd.hub)
    cli.add_command(hub_cmd.route)
    cli.add_command(hub_cmd.order)


_register()


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
    import multiprocessing
    import os
    import threading

    if threading.active_count() > 1 or multiprocessing.active_children():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (| head): the normal exit reports it as before
        return
    logging.shutdown()
    os._exit(0)
