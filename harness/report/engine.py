"""The proof behind the batched engine: its certificate, the mutants its checks kill, and this run's
equivalence checks against Keras."""
from __future__ import annotations

from harness.report.format import esc, fmt_num, pass_badge, table
from harness.report.hardware import hardware_difference
from harness.results.model import CertificateSummary, EquivalenceCheck, Machine, MutantsRun, SeedIndependence


def independence_text(indep: SeedIndependence | None) -> str:
    """One sentence: does a seed's run depend on the other seeds of its batch, and does it matter."""
    if indep is None:
        return "not measured"
    rows = indep.by_experiment
    sizes = " or ".join(str(n) for n in indep.batch_sizes)
    shifted = {n: row["shifted"] for n, row in rows.items() if "shifted" in row}
    if indep.bit_identical_everywhere and not shifted:  # measured before the shifted row existed
        text = (f"every seed's run is bit-identical whether trained among 30 seeds or among {sizes}, at the same "
                "positions in the batch (its position modulo 8 changes its last bits, which this measurement could "
                "not see: docs/findings.md, 2026-12-01)")
    elif indep.bit_identical_everywhere:
        text = (f"every seed's run is bit-identical whether trained among 30 seeds or among {sizes}, and one "
                "position earlier in its batch")
    elif shifted and indep.same_positions_bit_identical:
        moved = [n for n, r in shifted.items() if not r.bit_identical]
        worst = max(((r.max_rel_diff, n) for n, r in shifted.items()), default=(0, "-"))
        text = (f"every seed's run is bit-identical whether trained among 30 seeds or among {sizes} at the same "
                f"positions in the batch; one position earlier it differs on {len(moved)} of {len(shifted)} "
                f"configurations, by at most {worst[0]:.2g} relative ({worst[1]}): the ulps of a seed's place in a "
                "vector register, so every run batches the seeds as the looks do")
    else:
        worst = max(((r.max_rel_diff, n) for n, row in rows.items() for r in row.values()), default=(0, "-"))
        same = [n for n, row in rows.items() if all(r.bit_identical for r in row.values())]
        text = (f"bit-identical among 30 and among {sizes} seeds on {len(same)} of {len(rows)} configurations; "
                f"elsewhere the largest relative difference of any value is {worst[0]:.2g} ({worst[1]}), "
                "the ulps batched kernels of other sizes give, which chaotic training can amplify over 500 epochs")
    verdicts = indep.verdicts_on_seeds_0_29  # claim -> {seeds trained together: verdict, "same": bool}
    if verdicts:
        changed = [c for c, v in verdicts.items() if not v["same"]]
        text += (f"; the verdicts of {len(verdicts)} claims on seeds 0-29 are "
                 + ("the same in both batches" if not changed else f"DIFFERENT for {', '.join(changed)}"))
    return text


def certificate_section(cert: CertificateSummary | None, machine: Machine | None = None) -> str:
    """What the environment's engine certificate measured, at what cost, and on what hardware against this
    run's ``machine``."""
    parts = ['<h2 id="certificate">Engine certificate</h2>']
    if cert is None:
        parts.append('<p class="muted">No certificate in this results file (the literal Keras engine needs '
                     "none).</p>")
        return "\n".join(parts)
    plan = cert.plan.windows
    widths = cert.window_epochs or plan.window_epochs
    shorter = ", ".join(f"{k} {v}" for k, v in widths.items() if v != 10) or "none"
    envelope = (f" or {plan.envelope.factor}x the window's chaos envelope (how far {plan.envelope.perturbations} "
                "nudges of 1-2 ulps of its start state carry)" if plan.envelope is not None else "")
    cost = (f"{(cert.cost.keras_core_seconds or 0) / 60:.0f} core-minutes of Keras training, paid once; certify took "
            f"{(cert.cost.certify_wall_seconds or 0) / 60:.1f} min on {cert.cost.workers} workers"
            if cert.cost is not None else "not recorded")
    items = [
        ("file", esc(cert.path)), ("created", esc(cert.created)),
        ("certifies the Keras engine's code", f"<code>{esc(cert.code_digest[:16])}</code> "
                                              f"({esc(cert.digest_scheme)})"),
        ("batch order", esc(cert.batch_order)),
        ("Keras references", esc(f"seeds {list(cert.seeds)}, full length, Keras' own fit, with their training "
                                 "state at every window's start")),
        ("windows", esc(f"10 epochs each (other: {shorter}), tiling every epoch of seeds {list(cert.seeds)}; "
                        f"one window at each of {list(plan.later_fractions)} of the run for the later looks' "
                        f"seeds {list(cert.later_seeds)} (Keras restarted from the batched engine's state); "
                        f"every History key, within relative tolerance {plan.rtol} (accuracy: one sample)"
                        + envelope)),
        ("at certification", esc(f"{sum(c.passed for c in cert.checks)}/{len(cert.checks)} checks of the "
                                 "batched engine passed")),
        ("seed independence", esc(independence_text(cert.seed_independence))),
        ("cost", esc(cost)),
        ("made on", esc(hardware_difference(cert.machine, machine))),
    ]
    t = cert.transfer
    if t is not None:  # carried from another environment of its Keras line: where its references come from
        items[0:0] = [("transferred", esc(
            f"from {t.source} (SHA-256 {t.source_sha256[:12]}): its Keras references, with Keras' own fit re-run here "
            f"over {t.windows} of its windows (the first and last of every trajectory seed, the rest drawn with seed "
            f"{t.draw_seed}), every one within the certificate's tolerances (largest relative difference "
            f"{t.max_rel_diff:.1e}), in {t.seconds:.0f} s; no Keras reference was trained here, and its seed "
            "independence was measured there"))]
        items = [(k, v) if k != "cost" else (k, esc(f"transferred in {t.seconds:.0f} s")) for k, v in items]
    if cert.transfer_refused:
        items.insert(0, ("certified in full", esc(f"because {cert.transfer_refused}")))
    parts.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>")
    return "\n".join(parts)


def mutants_section(mutants: MutantsRun | None) -> str:
    """Each semantic mutant of the batched engine, and the check that killed it (or that it survived)."""
    if mutants is None:
        return ('<h3 id="mutants">Mutants</h3><p class="muted">No mutants table for this environment: '
                "<code>python -m harness mutants</code> writes one.</p>")

    def cell(v) -> str:
        return esc("—" if v is None else v)

    killed = sum(m.killed for m in mutants.mutants)
    rows = [[esc(m.mutant), esc(m.description), "killed" if m.killed else "<strong>SURVIVED</strong>",
             cell(m.check), cell(m.configuration), cell(m.seed), cell(m.checkpoint), cell(m.epoch), esc(m.detail)]
            for m in mutants.mutants]
    return "\n".join(['<h3 id="mutants">Mutants</h3>',
                      "<p>Each mutant gets one thing of Keras' semantics wrong; the checks above must kill it. "
                      f"killed: {killed}, survived: {len(mutants.mutants) - killed}.</p>",
                      table(["mutant", "what it gets wrong", "killed", "check", "configuration", "seed",
                             "checkpoint", "epoch", "detail"], rows)])


def equivalence_section(checks: tuple[EquivalenceCheck, ...]) -> str:
    """This run's checks of the batched engine against Keras, window by window."""
    parts = ['<h2 id="equivalence">Engine equivalence</h2>']
    if not checks:
        parts.append('<p class="muted">No engine equivalence checks in this results file.</p>')
        return "\n".join(parts)
    parts.append("<p>Before its runs are used, the batched engine of this run is restarted from every window "
                 "of the certificate (Keras' own training state at a checkpoint, at its true epoch) and each "
                 "window's History is compared with Keras', epoch by epoch, on every key; the last window also "
                 "compares the final metrics, the first starts from the engine's own initial weights. "
                 "Where training is calm, the continuity check also trains seeds 0-2 in one long program "
                 "call and restarts it from its own states: a window sees only the first epochs of a call, "
                 "this sees the rest.</p>")
    rows = [[esc(e.experiment), esc(e.level), esc(e.windows), esc(fmt_num(e.window_epochs)),
             pass_badge(e.passed) if e.ran else '<span class="muted">not run</span>', esc(e.detail)]
            for e in checks]
    parts.append(table(["configuration", "check", "windows", "epochs each", "result", "detail"], rows))
    parts.append("<p>Seeds no window covers: every seed of the looks other than 0, 1, 2 and the later-look "
                 "sample the certificate names. They run the same program as the checked seeds (at "
                 "certification each seed's run was bit-identical whether trained among 10, 30 or 1000 "
                 "seeds), and their initial weights are compared with Keras' initializers on 5 seeds of "
                 "every batch; no check compares their training with Keras.</p>")
    return "\n".join(parts)
