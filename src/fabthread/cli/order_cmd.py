"""`fabthread make ORDER.json` and `fabthread demo`: the whole thread, order to bundle."""

from __future__ import annotations

from pathlib import Path

import click

from fabthread.cli.output import emit_json, table
from fabthread.cli.progress import progress_bar


def _summary_row(bundle) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from fabthread.slice_job import format_duration

    m = bundle.manifest
    est = m["estimate"]
    return {
        "order": m["order"]["order_id"],
        "design": m["design"]["name"],
        "machine": m["machine"]["id"],
        "material": f"{m['material']['id']}/{m['color']['name']}",
        "process": m["machine"]["process"],
        "layers": est["layers"] if m["machine"]["process"] == "fdm" else "-",
        "plates": f"{m['quantity']['runs']} x {m['quantity']['per_run']}",
        "time": format_duration(est["time_s"]),
        "time_s": est["time_s"],
        "filament_g": est["filament_g"],
        "bundle": bundle.path,
        "sha256": bundle.sha256,
    }


_COLUMNS = (
    "order", "design", "machine", "material", "plates", "layers", "time", "filament_g", "bundle"
)


@click.command()
@click.argument("orders", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", default="out", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the bundles.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def make(ctx: click.Context, orders: tuple[str, ...], out_dir: str, as_json: bool) -> None:
    """Make job bundles for ORDERS (JSON order files): design -> part -> G-code -> bundle.

    \b
    Examples:
      fabthread make examples/orders/bracket-mk4.json -o out/
      fabthread make examples/orders/*.json -o out/ --json
    """
    from fabthread.pipeline import run_order

    rows = []
    for path in orders:
        with progress_bar(f"slicing {Path(path).name}", ctx.obj.get("quiet", False)) as prog:
            bundle = run_order(path, out_dir, cache_dir=_cache_dir(), progress=prog)
        rows.append(_summary_row(bundle))
    _render(rows, as_json)


@click.command()
@click.option("-o", "--out", "out_dir", default="out/demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the demo bundles.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def demo(ctx: click.Context, out_dir: str, as_json: bool) -> None:
    """Run the thread on the example orders in examples/orders/ and verify every bundle.

    \b
    Examples:
      fabthread demo
      fabthread demo -o /tmp/demo --json
    """
    from fabthread.bundle.verify import verify_bundle
    from fabthread.paths import data_root
    from fabthread.pipeline import run_order

    paths = sorted((data_root() / "examples" / "orders").glob("*.json"))
    if not paths:
        raise click.ClickException("no example orders in examples/orders/")
    rows = []
    for path in paths:
        with progress_bar(f"{path.stem}", ctx.obj.get("quiet", False)) as prog:
            bundle = run_order(path, out_dir, cache_dir=_cache_dir(), progress=prog)
        report = verify_bundle(Path(bundle.path))
        row = _summary_row(bundle)
        row["verified"] = report.ok
        rows.append(row)
        if not ctx.obj.get("quiet", False):
            click.echo(f"made {row['order']} -> {row['bundle']}", err=True)
    _render(rows, as_json)


def _render(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        emit_json(rows)
        return
    click.echo(table(_COLUMNS, [[r[c] for c in _COLUMNS] for r in rows]))


def _cache_dir() -> Path:
    """The build cache (``FABTHREAD_CACHE`` or ``~/.cache/fabthread``)."""
    import os

    env = os.environ.get("FABTHREAD_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "fabthread"


__all__ = ["demo", "make"]
