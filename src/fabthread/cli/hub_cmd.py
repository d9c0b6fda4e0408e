"""`fabthread hub ...` (serve, agent, token, list, status), `fabthread route` and
`fabthread order track`."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

from fabthread.cli.output import emit_json, table
from fabthread.errors import UserError

DEFAULT_DB = "sqlite:///var/fabthread.db"
_db_option = click.option(
    "--db",
    "db_url",
    default=lambda: os.environ.get("FABTHREAD_DB", DEFAULT_DB),
    show_default="$FABTHREAD_DB or sqlite:///var/fabthread.db",
    help="sqlite:///relative.db, sqlite:////abs.db or postgresql://user@host:port/db",
)
_hubs_option = click.option(
    "--hubs",
    "hubs_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of hub TOML files (default: profiles/hubs).",
)


def _location(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lat, lon = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not LAT,LON (e.g. 52.52,13.40)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"{value!r}: latitude -90..90, longitude -180..180")
    return lat, lon


@click.group()
def hub() -> None:
    """The hub network: job server, hub agents, tokens, pause/resume, status.

    \b
    Examples:
      fabthread hub serve --port 8765
      fabthread hub token berlin
      fabthread hub token --client webshop
      fabthread hub agent --server http://127.0.0.1:8765 --token fth_... \\
          --host octoprint --host-url http://127.0.0.1:5000 --api-key KEY
      fabthread hub status --json
    """


@hub.command("list")
@_hubs_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_hubs(hubs_dir: str | None, as_json: bool) -> None:
    """The hubs of the network (profiles/hubs), with machines and stock.

    \b
    Examples:
      fabthread hub list
      fabthread hub list --json
    """
    from dataclasses import asdict

    from fabthread.hub.registry import load_network

    hubs = load_network(hubs_dir)
    if as_json:
        emit_json([asdict(h) for h in hubs])
        return
    rows = [
        (
            h.id,
            h.state,
            f"{h.lat_deg:.3f},{h.lon_deg:.3f}",
            " ".join(f"{m.id}:{m.profile}" for m in h.machines),
            " ".join(f"{s.material}/{s.color}:{s.grams:g}g" for s in h.stock),
        )
        for h in hubs
    ]
    click.echo(table(("hub", "state", "location", "machines", "stock"), rows))


@hub.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@_hubs_option
@click.option(
    "--var",
    "var_dir",
    default="var",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Bundles and the signing key.",
)
@click.option(
    "--lease",
    "lease_s",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Default job lease in seconds.",
)
@click.option(
    "--split",
    "split_max_hubs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Split an order's quantity over up to N hubs.",
)
@click.option(
    "--max-body",
    default=256 * 1024,
    show_default=True,
    type=click.IntRange(1024, 64 * 1024 * 1024),
    help="Request body limit (bytes).",
)
@click.option(
    "--open-orders",
    is_flag=True,
    help="Accept and show orders without a client token (private network or demo only).",
)
@click.option(
    "--builder",
    default="",
    help="module:function(order, out_dir) -> Bundle (default: fabthread.pipeline.run_order).",
)
def serve(
    db_url: str,
    host: str,
    port: int,
    hubs_dir: str | None,
    var_dir: str,
    lease_s: float,
    split_max_hubs: int,
    max_body: int,
    open_orders: bool,
    builder: str,
) -> None:
    """Run the job server (HTTP; OpenAPI at /openapi.json).

    \b
    Examples:
      fabthread hub serve --port 8765
      fabthread hub serve --db postgresql://fab@127.0.0.1:5432/fab --lease 120
    """
    from fabthread.hub.registry import load_network
    from fabthread.hub.server import serve as run_server
    from fabthread.hub.service import HubService, ServiceConfig, default_builder

    config = ServiceConfig(
        db_url=db_url,
        var_dir=Path(var_dir),
        hubs=load_network(hubs_dir),
        builder=_load_callable(builder) if builder else default_builder,
        lease_s=lease_s,
        split_max_hubs=split_max_hubs,
        client_auth=not open_orders,
    )
    run_server(HubService(config), host, port, max_body_bytes=max_body)


def _load_callable(spec: str):  # type: ignore[no-untyped-def]
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UserError(f"--builder {spec!r}: cannot load it ({exc})") from None


@hub.command()
@click.argument("hub_id", required=False)
@click.option("--client", default="", help="Make an order-system token for this client name.")
@_db_option
@_hubs_option
def token(hub_id: str | None, client: str, db_url: str, hubs_dir: str | None) -> None:
    """Create an API token and print it (only a salted hash is stored): a hub token for
    HUB_ID (agents), or with --client NAME a token for an order system (POST/GET /orders).

    \b
    Examples:
      fabthread hub token berlin
      fabthread hub token --client webshop
      FABTHREAD_HUB_TOKEN=$(fabthread hub token munich) fabthread hub agent ...
    """
    from fabthread.hub.registry import load_network
    from fabthread.hub.store import Store

    if bool(hub_id) == bool(client):
        raise click.UsageError("give either HUB_ID or --client NAME")
    store = Store(db_url)
    try:
        if client:
            click.echo(store.create_client_token(client))
        else:
            store.sync_hubs(load_network(hubs_dir))
            click.echo(store.create_token(str(hub_id)))
    finally:
        store.close()


@hub.command()
@click.argument("hub_id")
@click.option("--reason", default="", help="Why (shown in hub status).")
@_db_option
@_hubs_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pause(hub_id: str, reason: str, db_url: str, hubs_dir: str | None, as_json: bool) -> None:
    """Pause a hub: the router skips it and its agents get no new jobs (running jobs finish).
    Stored in the database: a running server honours it at once, and it survives restarts.

    \b
    Examples:
      fabthread hub pause leipzig --reason "nozzle change"
      fabthread hub pause berlin --db postgresql://fab@127.0.0.1/fab --json
    """
    _set_paused(hub_id, True, reason, db_url, hubs_dir, as_json)


@hub.command()
@click.argument("hub_id")
@_db_option
@_hubs_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def resume(hub_id: str, db_url: str, hubs_dir: str | None, as_json: bool) -> None:
    """Resume a paused hub: it is routed to and its agents claim jobs again.

    \b
    Examples:
      fabthread hub resume leipzig
      fabthread hub resume berlin --json
    """
    _set_paused(hub_id, False, "", db_url, hubs_dir, as_json)


def _set_paused(
    hub_id: str, paused: bool, reason: str, db_url: str, hubs_dir: str | None, as_json: bool
) -> None:
    from fabthread.hub.registry import load_network
    from fabthread.hub.store import Store

    store = Store(db_url)
    try:
        if not any(h["id"] == hub_id for h in store.hubs()):
            store.sync_hubs(load_network(hubs_dir))  # a fresh database: learn the hubs first
        row = store.set_paused(hub_id, paused, reason)
        state = store.hub_states()[hub_id]
    finally:
        store.close()
    if as_json:
        emit_json({"hub": hub_id, "paused": bool(row["paused"]), "state": state, "reason": reason})
    else:
        note = f" ({reason})" if reason else ""
        click.echo(f"{hub_id}: {'paused' if paused else 'resumed'}{note}; state {state}")


@hub.command()
@click.option("--server", required=True, help="Job server URL, e.g. http://127.0.0.1:8765")
@click.option(
    "--token",
    envvar="FABTHREAD_HUB_TOKEN",
    required=True,
    help="Hub API token (or $FABTHREAD_HUB_TOKEN).",
)
@click.option(
    "--host",
    "host_kind",
    type=click.Choice(["octoprint", "moonraker", "folder"]),
    required=True,
    help="Where the G-code goes.",
)
@click.option("--host-url", default="", help="OctoPrint or Moonraker URL.")
@click.option(
    "--api-key",
    envvar="FABTHREAD_HOST_API_KEY",
    default="",
    help="OctoPrint/Moonraker API key (or $FABTHREAD_HOST_API_KEY).",
)
@click.option(
    "--folder", type=click.Path(file_okay=False), default=None, help="Watch folder (--host folder)."
)
@click.option(
    "--done-on-write", is_flag=True, help="Folder host: the job is done once the file is written."
)
@click.option("--machine", default="", help="Claim only jobs for this machine profile.")
@click.option("--machine-id", default="", help="Hub-local machine name for the event log.")
@click.option("--name", default="", help="Agent name (default: host name and pid).")
@click.option("--pubkey", default="", help="Pinned server signing key (base64) or @FILE.")
@click.option("--lease", "lease_s", default=60.0, show_default=True, type=click.FloatRange(1, 3600))
@click.option("--poll", "poll_s", default=2.0, show_default=True, type=click.FloatRange(0.05))
@click.option("--max-jobs", default=None, type=click.IntRange(1), help="Stop after N jobs.")
@click.option("--exit-when-idle", is_flag=True, help="Stop when the queue is empty.")
def agent(
    server: str,
    token: str,
    host_kind: str,
    host_url: str,
    api_key: str,
    folder: str | None,
    done_on_write: bool,
    machine: str,
    machine_id: str,
    name: str,
    pubkey: str,
    lease_s: float,
    poll_s: float,
    max_jobs: int | None,
    exit_when_idle: bool,
) -> None:
    """Pull jobs for this hub, verify them and print them on a host.

    \b
    Examples:
      fabthread hub agent --server http://127.0.0.1:8765 --token fth_... \\
          --host octoprint --host-url http://127.0.0.1:5000 --api-key KEY
      fabthread hub agent --server http://127.0.0.1:8765 --host moonraker \\
          --host-url http://voron.local:7125 --machine voron24_350
      fabthread hub agent --server http://127.0.0.1:8765 --host folder --folder /srv/gcode
    """
    import socket

    from fabthread.hub.agent import Agent, AgentConfig
    from fabthread.hub.hosts import FolderHost, MoonrakerHost, OctoPrintHost, PrinterHost

    printer: PrinterHost

    if host_kind == "folder":
        if not folder:
            raise click.BadParameter("--host folder needs --folder DIR")
        printer = FolderHost(folder, done_on_write=done_on_write)
    elif not host_url:
        raise click.BadParameter(f"--host {host_kind} needs --host-url URL")
    elif host_kind == "octoprint":
        printer = OctoPrintHost(host_url, api_key)
    else:
        printer = MoonrakerHost(host_url, api_key)
    if pubkey.startswith("@"):
        pubkey = Path(pubkey[1:]).read_text(encoding="utf-8").strip()
    cfg = AgentConfig(
        server=server,
        token=token,
        name=name or f"{socket.gethostname()}-{os.getpid()}",
        machine=machine,
        machine_id=machine_id,
        public_key=pubkey,
        lease_s=lease_s,
        poll_s=poll_s,
        idle_s=poll_s,
    )
    worker = Agent(cfg, printer)
    try:
        worker.run(max_jobs=max_jobs, exit_when_idle=exit_when_idle)
    except KeyboardInterrupt:
        worker.stop.set()
    finally:
        worker.close()
    click.echo(f"done: {len(worker.completed)}, failed: {len(worker.failed)}", err=True)


@hub.command()
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many recent orders.",
)
def status(db_url: str, as_json: bool, limit: int) -> None:
    """Hubs with their queues, and recent orders.

    \b
    Examples:
      fabthread hub status
      fabthread hub status --db postgresql://fab@127.0.0.1/fab --json
    """
    from fabthread.hub.store import Store

    store = Store(db_url)
    try:
        data = store.summary(limit=limit)
    finally:
        store.close()
    if as_json:
        emit_json(data)
        return
    hub_rows = [
        (
            h["id"],
            h["state"] + (f" ({h['paused_reason']})" if h["paused_reason"] else ""),
            f"{h['backlog_h']:.2f}",
            " ".join(f"{k}:{v}" for k, v in sorted(h["jobs"].items())) or "-",
            " ".join(
                f"{s['material']}/{s['color']}:{s['grams']:.0f}g"
                + (f"({s['available_g']:.0f} free)" if s["available_g"] != s["grams"] else "")
                for s in h["stock"]
            )
            or "-",
        )
        for h in data["hubs"]
    ]
    click.echo(table(("hub", "state", "backlog_h", "jobs", "stock"), hub_rows))
    click.echo()
    order_rows = [
        (
            o["order_id"],
            o["status"],
            o["design"],
            (o["bundle_sha256"] or "-")[:12],
            o["reason"] or "",
        )
        for o in data["orders"]
    ]
    click.echo(table(("order", "status", "design", "bundle", "reason"), order_rows))


@click.command()
@click.argument("order_file", type=click.Path(dir_okay=False))
@click.option(
    "--to",
    "deliver_to",
    default=None,
    help="Delivery location LAT,LON (overrides the file's deliver_to).",
)
@click.option(
    "--bundle",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A built bundle of the order: size and estimates from its manifest.",
)
@click.option(
    "--no-plan", is_flag=True, help="Do not build and slice the order: size and estimates unknown."
)
@click.option(
    "--any-machine",
    is_flag=True,
    help="Consider every machine of the process, not only the order's profile.",
)
@click.option(
    "--split",
    "split_max_hubs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Split the quantity over up to N hubs.",
)
@_hubs_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def route(
    order_file: str,
    deliver_to: str | None,
    bundle: str | None,
    no_plan: bool,
    any_machine: bool,
    split_max_hubs: int,
    hubs_dir: str | None,
    as_json: bool,
) -> None:
    """Choose a hub for an order and explain the choice.

    \b
    Examples:
      fabthread route examples/orders/bracket-mk4.json --to 52.52,13.40
      fabthread route order.json --bundle out/o-1.zip --json
      fabthread route order.json --no-plan --split 3
    """
    from fabthread import profiles
    from fabthread.hub.intake import read_submission, request_for
    from fabthread.hub.registry import load_network, machine_specs
    from fabthread.hub.router import decision_to_dict
    from fabthread.hub.router import route as route_order

    order, file_dest = read_submission(order_file)
    dest = _location(deliver_to) or file_dest
    request = request_for(order, dest, bundle=bundle, plan=not no_plan, any_machine=any_machine)
    hubs = load_network(hubs_dir)
    specs = machine_specs(hubs, profiles.load_machine)  # type: ignore[attr-defined]
    decision = route_order(request, hubs, specs, max_hubs=split_max_hubs)
    data = decision_to_dict(decision, request)
    if as_json:
        emit_json(data)
        return
    rows = [
        (
            h["hub"],
            "accepted" if h["accepted"] else "rejected",
            "-" if h["distance_km"] is None else f"{h['distance_km']:.0f}",
            f"{h['backlog_h']:.2f}" if h["accepted"] else "-",
            f"{h['completion_h']:.2f}" if h["accepted"] else "-",
            f"{h['score']:.3f}" if h["accepted"] else "-",
            h["reason"] or ", ".join(h["machines"]),
        )
        for h in data["hubs"]  # type: ignore[attr-defined]
    ]
    click.echo(table(("hub", "verdict", "km", "backlog_h", "done_in_h", "score", "why"), rows))
    if decision.chosen is None:
        raise UserError(f"order {request.order_id}: no hub can make it")
    split = ", ".join(f"{h}: {k}" for h, k in decision.split)
    click.echo(
        f"\nchosen: {decision.chosen}  failover: {' > '.join(decision.ranked)}  split: {split}"
    )


@click.group()
def order() -> None:
    """Orders in the hub network.

    \b
    Examples:
      fabthread order track o-1
      fabthread order track o-1 --json
    """


@order.command()
@click.argument("order_id")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def track(order_id: str, db_url: str, as_json: bool) -> None:
    """Show an order's status and event log (every state change, oldest first).

    \b
    Examples:
      fabthread order track o-1
      fabthread order track o-1 --db postgresql://fab@127.0.0.1/fab --json
    """
    import json
    from datetime import UTC, datetime

    from fabthread.hub.store import NotFound, Store

    store = Store(db_url)
    try:
        row = store.get_order(order_id)
        if row is None:
            raise NotFound(f"order {order_id} not found in {db_url}")
        events = store.events(order_id)
    finally:
        store.close()
    data = {
        "order_id": order_id,
        "status": row["status"],
        "reason": row["reason"] or "",
        "design": row["design"],
        "design_hash": row["design_hash"],
        "params": json.loads(row["params"] or "{}"),
        "bundle_sha256": row["bundle_sha256"],
        "jobs": [
            {k: j[k] for k in ("job_id", "hub_id", "machine", "quantity", "status", "attempts")}
            for j in row["jobs"]
        ],
        "events": events,
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"order {order_id}: {row['status']} {row['reason'] or ''}".rstrip())
    click.echo(
        f"design {row['design']} ({(row['design_hash'] or '-')[:12]}), "
        f"params {json.dumps(data['params'], sort_keys=True)}"
    )
    click.echo(f"bundle {row['bundle_sha256'] or '-'}\n")
    rows = [
        (
            datetime.fromtimestamp(e["ts"], UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            e["kind"],
            e["status"],
            e["job_id"] or "",
            e["hub_id"] or "",
            e["machine"] or "",
            e["agent"] or "",
            e["detail"].get("reason", ""),
        )
        for e in events
    ]
    click.echo(
        table(("time (UTC)", "event", "status", "job", "hub", "machine", "agent", "reason"), rows)
    )
