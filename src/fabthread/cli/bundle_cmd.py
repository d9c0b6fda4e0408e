"""`fabthread bundle ...` commands: verify, show and extract job bundles."""

from __future__ import annotations

from pathlib import Path

import click

from fabthread.cli.output import emit_json, table


@click.group()
def bundle() -> None:
    """Job bundles: the zip (manifest + G-code + model + report) a hub pulls.

    \b
    Examples:
      fabthread bundle verify out/A-1001.zip
      fabthread bundle show out/A-1001.zip
      fabthread bundle extract out/A-1001.zip -o /srv/jobs/A-1001
    """


@bundle.command()
@click.argument("path", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print {path, ok, problems} as JSON.")
@click.pass_context
def verify(ctx: click.Context, path: str, as_json: bool) -> None:
    """Check BUNDLE: manifest schema, every file's size and SHA-256, no unlisted or unsafe
    entries. Exit 0 when it verifies, 1 with the problems when it does not.

    \b
    Examples:
      fabthread bundle verify out/A-1001.zip
      fabthread bundle verify out/A-1001.zip --json
    """
    from fabthread.bundle.verify import verify_bundle

    report = verify_bundle(Path(path))
    files = report.manifest.get("files", []) if report.manifest else []
    if as_json:
        emit_json(
            {
                "path": path,
                "ok": report.ok,
                "problems": list(report.problems),
                "files": len(files) if isinstance(files, list) else 0,
            }
        )
    elif report.ok:
        click.echo(f"ok: {path} ({len(files)} files verified)")
    else:
        click.echo(f"FAILED: {path}")
        for problem in report.problems:
            click.echo(f"  {problem}")
    if not report.ok:
        ctx.exit(1)


@bundle.command()
@click.argument("path", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def show(path: str, as_json: bool) -> None:
    """Show the manifest of BUNDLE (not verified; use `bundle verify` for that).

    \b
    Examples:
      fabthread bundle show out/A-1001.zip
      fabthread bundle show out/A-1001.zip --json
    """
    from fabthread.bundle.verify import read_manifest

    manifest = read_manifest(Path(path))
    if as_json:
        emit_json(manifest)
        return
    click.echo(f"bundle   {path}")
    click.echo(f"schema   {manifest.get('schema', '-')}")
    for key in ("order", "design", "machine", "material", "color"):
        value = manifest.get(key)
        if isinstance(value, dict):
            label = value.get("order_id") or value.get("id") or value.get("name") or ""
            extra = ", ".join(
                f"{k}={v}"
                for k, v in sorted(value.items())
                if k not in ("order_id", "id") and not isinstance(v, dict | list)
            )
            click.echo(f"{key:<8} {label}" + (f" ({extra})" if extra else ""))
    estimate = manifest.get("estimate")
    if isinstance(estimate, dict):
        click.echo("estimate " + ", ".join(f"{k}={v}" for k, v in sorted(estimate.items())))
    files = manifest.get("files")
    if isinstance(files, list) and files:
        rows = [
            [f.get("path"), f.get("size"), str(f.get("sha256", ""))[:16]]
            for f in files
            if isinstance(f, dict)
        ]
        click.echo("")
        click.echo(table(("file", "bytes", "sha256"), rows))


@bundle.command()
@click.argument("path", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to extract into (created if missing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {path, out, files} as JSON.")
def extract(path: str, out_dir: str, as_json: bool) -> None:
    """Verify BUNDLE, then extract its manifest and files into a folder. A bundle that fails
    verification is refused and nothing is written.

    \b
    Examples:
      fabthread bundle extract out/A-1001.zip -o jobs/A-1001
    """
    from fabthread.bundle.verify import extract_bundle, read_manifest

    out = extract_bundle(Path(path), Path(out_dir))
    names = [f["path"] for f in read_manifest(Path(path))["files"]]
    if as_json:
        emit_json({"path": path, "out": str(out), "files": names})
    else:
        click.echo(f"extracted {len(names)} files to {out}")
