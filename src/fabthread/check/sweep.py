"""Check a design across its declared parameter ranges: which values break which rule.

The sweep builds the design at its defaults (the baseline), then varies one parameter at a
time across its range (``samples`` values on its step grid, every choice, both booleans) with
the others at their defaults, then ``samples`` random combinations (seeded). Each build is
checked with ``check_part``. For every parameter and rule, the report says which sampled
values make the rule fail (error or warning) when the defaults do not, e.g.
"thickness_mm <= 3.5 mm breaks min_wall (error) on prusa_mk4; 4 mm passes", so a storefront
can narrow its ranges.

``build(raw) -> Part`` is the caller's (the CLI passes design.build + customize.params), so
check/ imports no other stage. It raises ParamError for values the design refuses (a broken
constraint: the case is skipped) and any other UserError when the build fails (reported).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from fabthread.check.run import check_part
from fabthread.errors import ParamError, UserError
from fabthread.model.cam import StockMaterial, ToolSpec
from fabthread.model.findings import Findings, Severity
from fabthread.model.params import DesignSpec, ParamSpec, ParamValue
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

Build = Callable[[dict[str, ParamValue]], Part]
Progress = Callable[[int, int], None]
_RANK = {"error": 0, "warning": 1}


@dataclass(frozen=True, slots=True)
class SweepCase:
    """One sampled parameter set. ``varied`` is the parameter changed from the defaults
    ("" for the baseline, "*" for a random combination). ``status`` is "checked", "skipped"
    (the design refuses the values: ``reason`` says why) or "build_failed". ``failing`` holds
    (rule, worst severity) of every rule with an error or warning."""

    varied: str
    params: tuple[tuple[str, ParamValue], ...]
    status: str
    reason: str = ""
    failing: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "varied": self.varied,
            "params": dict(self.params),
            "status": self.status,
            "reason": self.reason,
            "failing": {rule: sev for rule, sev in self.failing},
        }


@dataclass(frozen=True, slots=True)
class SweepBreak:
    """Values of ``param`` (others at defaults) for which ``rule`` fails, though it passes at
    the defaults. ``tested`` lists every value that was checked, ascending."""

    param: str
    rule: str
    severity: Severity
    values: tuple[ParamValue, ...]
    tested: tuple[ParamValue, ...]
    summary: str

    def to_dict(self) -> dict[str, object]:
        return {
            "param": self.param,
            "rule": self.rule,
            "severity": self.severity,
            "values": list(self.values),
            "tested": list(self.tested),
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What the sweep found for one design on one machine. ``baseline`` is (rule, severity)
    of the rules failing at the defaults (they fail regardless of the sweep)."""

    design: str
    machine: str
    material: str
    process: str
    baseline: tuple[tuple[str, str], ...]
    breaks: tuple[SweepBreak, ...]
    cases: tuple[SweepCase, ...]
    samples: int
    seed: int

    def to_dict(self) -> dict[str, object]:
        return {
            "design": self.design,
            "machine": self.machine,
            "material": self.material,
            "process": self.process,
            "samples": self.samples,
            "seed": self.seed,
            "baseline": {rule: sev for rule, sev in self.baseline},
            "breaks": [b.to_dict() for b in self.breaks],
            "cases": [c.to_dict() for c in self.cases],
            "counts": {
                s: sum(1 for c in self.cases if c.status == s)
                for s in ("checked", "skipped", "build_failed")
            },
        }


def sweep_design(
    spec: DesignSpec,
    build: Build,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    process: str | None = None,
    samples: int = 5,
    seed: int = 0,
    tools: Sequence[ToolSpec | float] = (),
    stock: StockMaterial | None = None,
    overrides: Mapping[str, float] | None = None,
    base: Mapping[str, ParamValue] | None = None,
    fixed: Sequence[str] = (),
    progress: Progress | None = None,
) -> SweepReport:
    """Sweep ``spec``'s parameters (see the module docstring). ``base`` replaces defaults
    (e.g. a preset and the CLI's -p values); parameters named in ``fixed`` are not varied.
    Raises UserError when the baseline itself cannot be built."""
    if samples < 1:
        raise ParamError(f"samples={samples} must be >= 1")
    defaults: dict[str, ParamValue] = {p.name: p.default for p in spec.params}
    defaults.update(base or {})
    held = set(fixed)
    plan: list[tuple[str, dict[str, ParamValue]]] = [("", dict(defaults))]
    for p in spec.params:
        if p.name in held:
            continue
        for value in param_values(p, samples):
            if value != defaults[p.name]:
                plan.append((p.name, {**defaults, p.name: value}))
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        combo = dict(defaults)
        for p in spec.params:
            if p.name not in held:
                combo[p.name] = random_value(p, rng)
        plan.append(("*", combo))

    process = process or machine.process
    cases: list[SweepCase] = []
    for i, (varied, raw) in enumerate(plan):
        if progress is not None:
            progress(i, len(plan))
        check = partial(
            check_part,
            machine=machine,
            material=material,
            process=process,
            tools=tools,
            stock=stock,
            overrides=overrides,
        )
        cases.append(_run_case(varied, raw, build, check))
        if i == 0 and cases[0].status != "checked":
            raise UserError(f"design {spec.name} at its defaults: {cases[0].reason}")
    if progress is not None:
        progress(len(plan), len(plan))
    baseline = cases[0].failing
    breaks = _breaks(spec, cases, defaults, machine.id)
    return SweepReport(
        design=spec.name,
        machine=machine.id,
        material=material.id if material else "",
        process=process,
        baseline=baseline,
        breaks=tuple(breaks),
        cases=tuple(cases),
        samples=samples,
        seed=seed,
    )


def param_values(p: ParamSpec, samples: int) -> list[ParamValue]:
    """The values of ``p`` the one-at-a-time sweep tries: ``samples`` points evenly over
    [minimum, maximum] on the step grid (ints rounded), every choice, both booleans; strings
    and unbounded numbers only at their default."""
    if p.type == "bool":
        return [False, True]
    if p.type == "choice":
        return list(p.choices)
    if p.type not in ("float", "int") or p.minimum is None or p.maximum is None:
        return [p.default]
    out: list[ParamValue] = []
    for v in np.linspace(p.minimum, p.maximum, samples if p.maximum > p.minimum else 1):
        snapped = _snap(p, float(v))
        if snapped not in out:
            out.append(snapped)
    return out


def random_value(p: ParamSpec, rng: np.random.Generator) -> ParamValue:
    """A random valid value of ``p`` (on its grid); strings stay at their default."""
    if p.type == "bool":
        return bool(rng.integers(0, 2))
    if p.type == "choice":
        return p.choices[int(rng.integers(0, len(p.choices)))]
    if p.type not in ("float", "int") or p.minimum is None or p.maximum is None:
        return p.default
    return _snap(p, float(rng.uniform(p.minimum, p.maximum)))


def _snap(p: ParamSpec, v: float) -> ParamValue:
    lo, hi = float(p.minimum), float(p.maximum)  # type: ignore[arg-type]
    step = p.step or (1.0 if p.type == "int" else 0.0)
    if step:
        k = round((v - lo) / step)
        while lo + k * step > hi + 1e-9 and k > 0:
            k -= 1
        v = lo + k * step
        v = round(v, max(0, -math.floor(math.log10(step))) + 6)
    v = min(max(v, lo), hi)
    return int(round(v)) if p.type == "int" else float(v)


def _run_case(
    varied: str,
    raw: dict[str, ParamValue],
    build: Build,
    check: Callable[[Part], Findings],
) -> SweepCase:
    params = tuple(raw.items())
    try:
        part = build(dict(raw))
    except ParamError as exc:
        return SweepCase(varied, params, "skipped", reason=str(exc))
    except UserError as exc:
        return SweepCase(varied, params, "build_failed", reason=str(exc))
    findings = check(part)
    worst: dict[str, str] = {}
    for f in findings:
        if f.severity in _RANK and (
            f.rule not in worst or _RANK[f.severity] < _RANK[worst[f.rule]]
        ):
            worst[f.rule] = f.severity
    return SweepCase(varied, params, "checked", failing=tuple(sorted(worst.items())))


def _breaks(
    spec: DesignSpec, cases: list[SweepCase], defaults: dict[str, ParamValue], machine: str
) -> list[SweepBreak]:
    base = dict(cases[0].failing)
    out: list[SweepBreak] = []
    for p in spec.params:
        mine = [c for c in cases if c.varied == p.name and c.status == "checked"]
        if not mine:
            continue
        tested = [(defaults[p.name], base)] + [
            (dict(c.params)[p.name], dict(c.failing)) for c in mine
        ]
        tested.sort(key=lambda t: _key(t[0]))
        rules = sorted({r for _, failing in tested for r in failing} - set(base))
        for rule in rules:
            bad = [v for v, failing in tested if rule in failing]
            sev = min(
                (failing[rule] for _, failing in tested if rule in failing), key=lambda s: _RANK[s]
            )
            values = [v for v, _ in tested]
            out.append(
                SweepBreak(
                    param=p.name,
                    rule=rule,
                    severity=sev,  # type: ignore[arg-type]
                    values=tuple(bad),
                    tested=tuple(values),
                    summary=_describe(p, rule, sev, bad, values, machine),
                )
            )
    return out


def _key(v: ParamValue) -> tuple[int, float | str]:
    return (0, float(v)) if isinstance(v, int | float) else (1, str(v))


def _describe(
    p: ParamSpec,
    rule: str,
    severity: str,
    bad: list[ParamValue],
    values: list[ParamValue],
    machine: str,
) -> str:
    unit = f" {p.unit}" if p.unit else ""
    what = f"breaks {rule} ({severity}) on {machine}"
    good = [v for v in values if v not in bad]
    if p.type in ("float", "int") and good:
        if values[: len(bad)] == bad:
            return f"{p.name} <= {_fmt(bad[-1])}{unit} {what}; {_fmt(good[0])}{unit} passes"
        if values[len(values) - len(bad) :] == bad:
            return f"{p.name} >= {_fmt(bad[0])}{unit} {what}; {_fmt(good[-1])}{unit} passes"
    shown = ", ".join(_fmt(v) for v in bad)
    return f"{p.name} = {shown}{unit} {what}"


def _fmt(v: ParamValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
