"""`fabthread profile ...` commands: list and show machine, material and dialect profiles."""

from __future__ import annotations

from typing import Any

import click

from fabthread.cli.output import emit_json, table


@click.group()
def profile() -> None:
    """Machine, material and G-code dialect profiles (the TOML files under profiles/).

    \b
    Examples:
      fabthread profile list
      fabthread profile show prusa_mk4
      fabthread profile show pla --json
    """


def _machine_row(m) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "id": m.id,
        "name": m.name,
        "process": m.process,
        "dialect": m.dialect,
        "volume_mm": [m.size_x_mm, m.size_y_mm, m.size_z_mm],
        "nozzle_mm": m.nozzle_diameter_mm,
        "sha256": m.sha256,
    }


def _material_row(m) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "id": m.id,
        "name": m.name,
        "process": m.process,
        "density_g_cm3": m.density_g_cm3,
        "nozzle_temp_c": m.nozzle_temp_c,
        "bed_temp_c": m.bed_temp_c,
        "colors": [c.name for c in m.colors],
        "sha256": m.sha256,
    }


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machines and materials as JSON.")
def list_(as_json: bool) -> None:
    """List the machines and materials (family bases starting with _ are not listed).

    \b
    Examples:
      fabthread profile list
      fabthread profile list --json
    """
    from fabthread.profiles import list_machines, list_materials

    machines = [_machine_row(m) for m in list_machines()]
    materials = [_material_row(m) for m in list_materials()]
    if as_json:
        emit_json({"machines": machines, "materials": materials})
        return
    click.echo("machines")
    click.echo(
        table(
            ("id", "name", "process", "dialect", "volume (mm)", "nozzle"),
            [
                [
                    r["id"],
                    r["name"],
                    r["process"],
                    r["dialect"],
                    " x ".join(f"{v:g}" for v in r["volume_mm"]),
                    r["nozzle_mm"],
                ]
                for r in machines
            ],
        )
    )
    click.echo("\nmaterials")
    click.echo(
        table(
            ("id", "name", "process", "density", "nozzle", "bed", "colors"),
            [
                [
                    r["id"],
                    r["name"],
                    r["process"],
                    r["density_g_cm3"],
                    f"{r['nozzle_temp_c']:g} °C",
                    f"{r['bed_temp_c']:g} °C",
                    len(r["colors"]),
                ]
                for r in materials
            ],
        )
    )


@profile.command("show")
@click.argument("profile_id", metavar="ID")
@click.option(
    "--kind",
    type=click.Choice(["machine", "material", "dialect"]),
    default=None,
    help="Which kind of profile ID is (default: the first that has it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the resolved profile as JSON.")
def show(profile_id: str, kind: str | None, as_json: bool) -> None:
    """Show one fully resolved profile (inherits applied): a machine, material or dialect.

    \b
    Examples:
      fabthread profile show prusa_mk4
      fabthread profile show petg --json
      fabthread profile show klipper --kind dialect
    """
    from fabthread import profiles
    from fabthread.errors import ProfileError
    from fabthread.paths import profiles_dir

    loaders: dict[str, Any] = {
        "machine": profiles.load_machine,
        "material": profiles.load_material,
        "dialect": profiles.load_dialect,
    }
    folders = {"machine": "machines", "material": "materials", "dialect": "dialects"}
    if kind is None:
        root = profiles_dir()
        found = [
            k
            for k, f in folders.items()
            if (root / f / f"{profile_id}.toml").is_file() and not profile_id.startswith("_")
        ]
        if not found:
            names = sorted(
                p.stem
                for f in folders.values()
                for p in (root / f).glob("*.toml")
                if not p.stem.startswith("_")
            )
            raise ProfileError(f"unknown profile '{profile_id}'; available: {', '.join(names)}")
        kind = found[0]
    loaded = loaders[kind](profile_id)
    data = profiles.profile_dict(loaded)
    if as_json:
        emit_json({"kind": kind, **data})
        return
    click.echo(f"{kind} {profile_id}")
    _render(data, "  ")


def _render(data: dict[str, object], indent: str) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{indent}{key}:")
            _render(value, indent + "  ")
        elif isinstance(value, str) and "\n" in value:
            click.echo(f"{indent}{key}: |")
            for line in value.strip("\n").splitlines():
                click.echo(f"{indent}  {line}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            click.echo(f"{indent}{key}:")
            for item in value:
                click.echo(f"{indent}  - " + ", ".join(f"{k}={v}" for k, v in item.items()))
        elif isinstance(value, list) and value and isinstance(value[0], list):
            click.echo(
                f"{indent}{key}: "
                + ", ".join(
                    f"{k}={v}" if isinstance(k, str) else "x".join(map(str, (k, v)))
                    for k, v in value
                )
            )
        else:
            click.echo(f"{indent}{key}: {value}")
