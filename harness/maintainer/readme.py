"""The documents' generated tables (README.md, docs/claims.md, docs/versions.md, docs/costs.md), from
committed data and checked by a test.

* ``claims``: every claim's spec and expectation (:func:`harness.collect.claims_table`);
* ``costs``: ``reports/bench.json`` (``python -m harness bench``);
* ``cells``: the TensorFlow matrix, ``reports/cells/*.json`` (``python -m harness cells``), in docs/versions.md;
* ``matrix``: the README's summary of it: how many cells, which agree with the default cell, which differ where;
* ``cost``: the README's costs, from ``reports/bench.json``, the cells' records and the committed certificate;
* ``older``: the committed summaries in ``reports/baselines/`` decided under earlier rules.

``python -m harness.maintainer.readme --write`` rewrites the text between each pair of
markers ``<!-- NAME: generated ... -->`` / ``<!-- /NAME -->``; the README test
fails when a table is stale.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from harness.spec import RULES
from harness.collect import claims_table
from harness.maintainer import cells as celllib
from harness.results import summaries
from harness.storage.store import atomic_write_text

ROOT = Path(__file__).resolve().parents[2]


def _num(x, digits=3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "" if x is None else str(x)
    return f"{x:.{digits}g}"


def costs_table(bench_path: Path = ROOT / "reports" / "bench.json") -> str:
    data = json.loads(Path(bench_path).read_text(encoding="utf-8"))
    cold = data.get("cold_suite") or {}
    machine = data.get("machine") or {}  # where the engines were timed; the cold line may be another machine
    env = data.get("environment") or {}
    lines = [f"Measured on {machine.get('cores', '?')} cores ({machine.get('cpu', '?')}, "
             f"{machine.get('memory_gib', '?')} GiB), TF {env.get('tensorflow', '?')} / Keras {env.get('keras', '?')}, "
             f"one `python -m harness bench` run (both engines side by side):", "",
             "| configuration | epochs | Keras `fit`, s per seed | batched, 30 seeds (s) | batched, 1000 seeds (s) | "
             "ratio per seed at 30 |", "|---|---|---|---|---|---|"]
    for r in data.get("rows") or []:
        by = r.get("batched_seconds_by_seeds") or {}
        lines.append(f"| {r['configuration']} | {r['epochs']} | {_num(r.get('keras_seconds_per_seed'))} | "
                     f"{_num(r.get('batched_seconds'))} | {_num(by.get('1000'))} | {_num(r.get('ratio'))}x |")
    certified = _certify_minutes("; most ran beside another cell")
    if certified:
        lines += ["", f"Certifying one environment (`python -m harness certify`, measured by `python -m harness cells`, "
                      f"`reports/cells/`): {certified}."]
    probes = data.get("probes")
    if probes:
        lines += ["", f"The probes inside training (`python -m harness bench --probes`, {probes['seeds']} seeds, "
                      f"best of {probes['repeats']}, with and without side by side): {probes['plain_seconds']:.1f} s "
                      f"without, {probes['probes_seconds']:.1f} s with, over all configurations: x"
                      f"{probes['ratio']:.2f} (per configuration x{min(r['ratio'] for r in probes['rows']):.2f}-"
                      f"{max(r['ratio'] for r in probes['rows']):.2f})."]
    sweep = data.get("sweep")
    if sweep:
        lines += ["", f"The depth sweep's training (`python -m harness bench --sweep`): {len(sweep['rows'])} points "
                      f"x {sweep['seeds']} seeds with their probes in {sweep['seconds'] / 60:.1f} min in one process "
                      f"(the thorough profile's workers share it)."]
    if data.get("cold_suite_seconds") is not None:
        lines += ["", f"The README's first line, cold (fresh clone, fresh venv, empty run store, install included): "
                      f"{data['cold_suite_seconds']:.0f} s (`python -m harness bench --cold-suite`, commit "
                      f"{str(cold.get('commit', ''))[:7]}, on {(cold.get('machine') or {}).get('cores', '?')} cores, "
                      f"{(cold.get('machine') or {}).get('cpu', '?')})."]
    return "\n".join(lines)


def _certify_minutes(aside: str = "") -> str:
    """"median 16 min wall on 2 cores over 15 cells (12-18 min[; aside])", from the committed cell records (not
    the certificates on this machine: made where they run, not committed); "" when none was measured."""
    certified = sorted((c.certify_seconds, c.cores) for c in celllib.load_all() if c.certify_seconds)
    if not certified:
        return ""
    mid = certified[len(certified) // 2][0] / 60
    return (f"median {mid:.0f} min wall on {certified[0][1]} cores over {len(certified)} cells "
            f"({certified[0][0] / 60:.0f}-{certified[-1][0] / 60:.0f} min{aside})")


def cost_summary(bench_path: Path = ROOT / "reports" / "bench.json",
                 certificates: Path = ROOT / "reports" / "certificates") -> str:
    """The README's costs, each from where it was measured; the full tables are docs/costs.md's."""
    data = json.loads(Path(bench_path).read_text(encoding="utf-8"))
    cold, machine = data.get("cold_suite") or {}, data.get("machine") or {}
    ratios = [r["ratio"] for r in data.get("rows") or [] if r.get("ratio")]
    parts = []
    if data.get("cold_suite_seconds") is not None:
        parts.append(f"the first line, cold (fresh clone and venv, install included): "
                     f"{data['cold_suite_seconds'] / 60:.0f} min on {(cold.get('machine') or {}).get('cores', '?')} "
                     "cores")
    if ratios:
        parts.append(f"the batched engine is {min(ratios):.0f}-{max(ratios):.0f}x faster per seed than the lesson's "
                     f"`fit` ({machine.get('cores', '?')} cores, `python -m harness bench`)")
    certified = _certify_minutes()
    if certified:
        parts.append(f"certifying an environment in full: {certified}")
    shipped = sorted(Path(certificates).glob("*.npz"))
    if shipped:
        parts.append(f"the committed certificate: {shipped[0].stat().st_size / 2 ** 20:.1f} MiB")
    return ("Costs: " + "; ".join(parts) + ". Every measurement, per configuration: [docs/costs.md](docs/costs.md)."
            if parts else "Costs: [docs/costs.md](docs/costs.md).")


def default_cell(readme: Path = ROOT / "README.md") -> str:
    """The cell the README's first line installs (its lock's name)."""
    match = re.search(r"harness/locks/([\w.-]+)\.txt", Path(readme).read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{readme}: no harness/locks/<cell>.txt in its quick start")
    return match.group(1)


def _names(envs) -> str:
    return ", ".join(f"`{e}`" for e in envs)


def matrix_summary(directory: Path = ROOT / "reports" / "cells", default: str | None = None) -> str:
    """The matrix in a few lines: its cells, the ones not decided, and against the default cell which give every
    claim the same label and effect [interval], and where the others differ."""
    default = default or default_cell()
    found = {c.env: c for c in celllib.load_all(directory)}
    declared = celllib.declared_environments()
    decided = [found[e] for e in declared if e in found and found[e].status == "decided"]
    missing = [e for e in declared if e not in found or found[e].status != "decided"]
    text = f"{len(declared)} cells in `tox.ini`, {len(decided)} decided"
    if missing:
        text += " (not decided: " + "; ".join(
            f"`{e}`, {found[e].status if e in found else 'not run yet'}" for e in missing) + ")"
    base = found.get(default)
    if base is None or base.status != "decided":
        return text + f"; the default cell `{default}` is not decided. Every cell: [docs/versions.md](docs/versions.md)."
    mine = {c.id: c for c in base.summary.claims}
    label_diffs, effect_groups = [], {}
    for cell in decided:
        if cell.env == default:
            continue
        theirs = {c.id: c for c in cell.summary.claims}
        labels = [f"{cid} {theirs[cid].label} (default {c.label})" for cid, c in mine.items()
                  if cid in theirs and theirs[cid].label != c.label]
        if labels:
            label_diffs.append(f"`{cell.env}`: " + ", ".join(labels))
        effects = tuple(f"{cid} {_fmt_effect(theirs[cid])} against {_fmt_effect(c)}" for cid, c in mine.items()
                        if cid in theirs and _fmt_effect(theirs[cid]) != _fmt_effect(c))
        effect_groups.setdefault(effects, []).append(cell.env)
    text += f". Against the default cell, `{default}` (the Quick start's): "
    text += ("every decided cell gives every claim the same label" if not label_diffs else
             "labels differ in " + "; ".join(label_diffs))
    same = effect_groups.pop((), [])
    if same:
        text += f"; {len(same)} give every claim the same effect [interval] too ({_names(same)})"
    for effects, envs in sorted(effect_groups.items(), key=lambda kv: -len(kv[1])):
        text += (f"; {len(envs)} differ in effect [interval] in {len(effects)} claim{'s' if len(effects) > 1 else ''}"
                 f" ({_names(envs)}): " + ", ".join(effects))
    return text + ". Every cell, claim by claim: [docs/versions.md](docs/versions.md)."


def _fmt_effect(c) -> str:
    e = c.effect
    if e.value is None:
        return "no effect"
    interval = f" [{_num(e.ci_low)}, {_num(e.ci_high)}]" if e.ci_low is not None else ""
    return f"{_num(e.value)}{interval}"


SHORT_LABELS = {"SUPPORTED": "S", "REFUTED": "R", "INCONCLUSIVE": "I", "ON THE LINE": "L",
                "NOT TESTABLE HERE": "N"}


def cells_table(directory: Path = ROOT / "reports" / "cells") -> str:
    """Claim x cell of the TensorFlow matrix (reports/cells): label, effect [interval], in bold where it
    differs from the cell to its left; then the cells not decided, with why, and what a cell and the
    whole matrix cost."""
    found = {c.env: c for c in celllib.load_all(directory)}
    declared = celllib.declared_environments()
    decided = [found[e] for e in declared if e in found and found[e].status == "decided"]
    decided.sort(key=lambda c: (celllib.order_key(c.env)[1] != 0, celllib.order_key(c.env)))  # Keras 2, then 3
    legend = ("S SUPPORTED, R REFUTED, I INCONCLUSIVE, L ON THE LINE, N NOT TESTABLE HERE; effect [interval]; "
              "**bold**: differs from the cell to its left on the same Keras line.")
    def keras(c) -> str:  # Keras 2 on TF >= 2.16 is the tf-keras package
        return ("tf-keras" if "-k2-" in c.env and tuple(map(int, c.tensorflow.split(".")[:2])) >= (2, 16) else "Keras") \
            + f" {c.keras}"

    head = "| claim | seeds | " + " | ".join(f"TF {c.tensorflow}<br>{keras(c)}" for c in decided) + " |"
    lines = [legend, "", head, "|---|---|" + "---|" * len(decided)]
    ids = [c.id for c in decided[-1].summary.claims] if decided else []
    for cid in ids:
        found_claims = [next((x for x in cell.summary.claims if x.id == cid), None) for cell in decided]
        seeds = sorted({c.seeds for c in found_claims if c is not None})
        row, before, line = [], None, None
        for cell, c in zip(decided, found_claims):
            text = "" if c is None else f"{SHORT_LABELS.get(c.label, c.label)} {_fmt_effect(c)}" + (
                f"; {c.seeds} seeds" if len(seeds) > 1 else "")
            if celllib.line_of(cell.env) != line:  # the first cell of a Keras line has no left neighbour
                before, line = None, celllib.line_of(cell.env)
            row.append(f"**{text}**" if before is not None and text and text != before else text)
            before = text
        lines.append(f"| {cid} | {seeds[0] if len(seeds) == 1 else 'see cells'} | " + " | ".join(row) + " |")
    lines.append("")
    if decided:
        lines += ["Columns, left to right: " + ", ".join(f"`{c.env}`" for c in decided) + ".", ""]
    if any(found.get(env) is None or found[env].status != "decided" for env in declared):
        lines += ["Not decided:", ""]
    for env in declared:
        cell = found.get(env)
        if cell is None:
            lines.append(f"- `{env}`: not run yet")
        elif cell.status != "decided":
            head, *rest = cell.reason.split(" | ")  # the checks' tally first; every failure stays in the record
            reason = head + (f" (each failure: `reports/cells/{env}.json`)" if rest else "")
            why = [celllib.pair_sentence(celllib.compare_pair(a, b))
                   for a, b in celllib.failed_pairs(list(found.values())) if a.env == env]
            lines.append(f"- `{env}`: {cell.status.upper()}: {reason}." + "".join(f" {w}." for w in why))
    costs = [c for c in found.values() if c.certify_seconds and c.claims_seconds]
    if costs:
        certify = sorted(c.certify_seconds for c in costs)[len(costs) // 2] / 60
        claims = sorted(c.claims_seconds for c in costs)[len(costs) // 2] / 60
        lines += ["", f"One cell on {costs[0].cores} cores: about {certify:.0f} min to certify and {claims:.0f} min "
                      f"to decide the claims cold (median of {len(costs)} measured cells); the {len(declared)} cells "
                      f"of tox.ini: about {len(declared) * (certify + claims + 2) / 60:.1f} hours one after another."]
    return "\n".join(lines)


def older_table(baselines: Path = ROOT / "reports" / "baselines") -> str:
    """The committed summaries decided under rules before the current ones: shown apart, never compared."""
    envs, cells, ids = [], {}, []
    for f in sorted(Path(baselines).glob("*.json")):
        s = summaries.load(f)
        if s.rules == RULES:
            continue
        env = s.environment
        name = f"TF {env.tensorflow} / Keras {env.keras}"
        envs.append((name, f"{s.suite_version}, rules {s.rules or 'before 2026-11-28'}, order: "
                           f"{env.batch_order or 'Keras own, seeded'}"))
        for c in s.claims:
            if c.id not in ids:
                ids.append(c.id)
            cells[(c.id, name)] = f"{c.label} ({_num(c.effect.value)}; {c.seeds} seeds)"
    head = "| claim | " + " | ".join(f"{n}<br>({v})" for n, v in envs) + " |"
    lines = [head, "|---|" + "---|" * len(envs)]
    for cid in ids:
        lines.append(f"| {cid} | " + " | ".join(cells.get((cid, n), "") for n, _ in envs) + " |")
    return "\n".join(lines)


def _claims() -> str:
    return claims_table()


DEFAULT_BASELINE = ROOT / "reports" / "baselines" / "tf2.21.0-keras3.15.1-cpu-26c161f2.json"


def headline(path: Path = DEFAULT_BASELINE) -> str:
    """The default cell's verdicts as the README states them: the lesson's claims by label, the readings, and
    the chance that at least one decided verdict is wrong (from its committed summary)."""
    from harness.report.labels import counts_text, error_bound_text, robustness_counts

    summary = summaries.load(path)
    tests = list(summary.claims)
    env = summary.environment
    return (f"On TF {env.tensorflow} / Keras {env.keras} CPU (`{path.relative_to(ROOT)}`): {counts_text(tests)}. "
            f"{_first_upper(robustness_counts(tests))}. {_first_upper(error_bound_text(tests, summary.familywise))}.")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


TABLES = {"claims": _claims, "costs": costs_table, "cells": cells_table, "older": older_table, "headline": headline,
          "matrix": matrix_summary, "cost": cost_summary}


def begin(name: str) -> str:
    return f"<!-- {name}: generated by `python -m harness.maintainer.readme --write`; do not edit -->"


def end(name: str) -> str:
    return f"<!-- /{name} -->"


# Which document holds each generated table.
DOCS = {"claims": ROOT / "docs" / "claims.md", "cells": ROOT / "docs" / "versions.md", "headline": ROOT / "README.md",
        "matrix": ROOT / "README.md", "cost": ROOT / "README.md", "older": ROOT / "docs" / "versions.md",
        "costs": ROOT / "docs" / "costs.md"}


def render(text: str, names=None) -> str:
    """``text`` with each generated table named in ``names`` (default: every table it has markers for)
    replaced by its current text; a table named but without markers is an error."""
    for name, make in TABLES.items():
        b, e = begin(name), end(name)
        present = b in text and e in text
        if names is not None and name in names and not present:
            raise ValueError(f"no {name} table markers ({b!r} ... {e!r})")
        if not present or (names is not None and name not in names):
            continue
        head, rest = text.split(b, 1)
        _, tail = rest.split(e, 1)
        text = f"{head}{b}\n{make()}\n{e}{tail}"
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.maintainer.readme",
                                     description="regenerate the generated tables in docs/ from committed data; "
                                                 "exit status 1 when one is stale and --write was not given")
    parser.add_argument("--write", action="store_true", help="rewrite the documents (default: report whether "
                                                             "they are current)")
    args = parser.parse_args(argv)
    stale = False
    for name, path in DOCS.items():
        try:
            text = path.read_text(encoding="utf-8")
            new = render(text, [name])
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"{path}: {exc}")
        if args.write and new != text:
            atomic_write_text(path, new)
        state = "current" if new == text else ("updated" if args.write else "STALE (run with --write)")
        stale |= new != text and not args.write
        print(f"{path.relative_to(ROOT)}: {name} table {state}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
