"""The proof behind the batched engine: its certificate, the mutants its checks kill, and this run's
equivalence checks against Keras; laid out by ``templates/engine.html``."""
from __future__ import annotations

from harness.report.format import fmt_num
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


def certificate_section(cert: CertificateSummary | None, machine: Machine | None = None
                        ) -> list[tuple[str, str | None, str]] | None:
    """What the environment's engine certificate measured, at what cost, and on what hardware against this
    run's ``machine``: (what, a digest shown as code or None, the words)."""
    if cert is None:
        return None
    plan = cert.plan.windows
    widths = cert.window_epochs or plan.window_epochs
    shorter = ", ".join(f"{k} {v}" for k, v in widths.items() if v != 10) or "none"
    envelope = (f" or {plan.envelope.factor}x the window's chaos envelope (how far {plan.envelope.perturbations} "
                "nudges of 1-2 ulps of its start state carry)" if plan.envelope is not None else "")
    cost = (f"{(cert.cost.keras_core_seconds or 0) / 60:.0f} core-minutes of Keras training, paid once; certify took "
            f"{(cert.cost.certify_wall_seconds or 0) / 60:.1f} min on {cert.cost.workers} workers"
            if cert.cost is not None else "not recorded")
    items = [
        ("file", None, cert.path), ("created", None, cert.created),
        ("certifies the Keras engine's code", cert.code_digest[:16], f"({cert.digest_scheme})"),
        ("batch order", None, cert.batch_order),
        ("Keras references", None, f"seeds {list(cert.seeds)}, full length, Keras' own fit, with their training "
                                   "state at every window's start"),
        ("windows", None, f"10 epochs each (other: {shorter}), tiling every epoch of seeds {list(cert.seeds)}; "
                          f"one window at each of {list(plan.later_fractions)} of the run for the later looks' "
                          f"seeds {list(cert.later_seeds)} (Keras restarted from the batched engine's state); "
                          f"every History key, within relative tolerance {plan.rtol} (accuracy: one sample)"
                          + envelope),
        ("at certification", None, f"{sum(c.passed for c in cert.checks)}/{len(cert.checks)} checks of the "
                                   "batched engine passed"),
        ("seed independence", None, independence_text(cert.seed_independence)),
        ("cost", None, cost),
        ("made on", None, hardware_difference(cert.machine, machine)),
    ]
    t = cert.transfer
    if t is not None:  # carried from another environment of its Keras line: where its references come from
        items[0:0] = [("transferred", None,
                       f"from {t.source} (SHA-256 {t.source_sha256[:12]}): its Keras references, with Keras' own fit "
                       f"re-run here over {t.windows} of its windows (the first and last of every trajectory seed, "
                       f"the rest drawn with seed {t.draw_seed}), every one within the certificate's tolerances "
                       f"(largest relative difference {t.max_rel_diff:.1e}), in {t.seconds:.0f} s; no Keras reference "
                       "was trained here, and its seed independence was measured there")]
        items = [item if item[0] != "cost" else ("cost", None, f"transferred in {t.seconds:.0f} s") for item in items]
    if cert.transfer_refused:
        items.insert(0, ("certified in full", None, f"because {cert.transfer_refused}"))
    return items


def mutants_section(mutants: MutantsRun | None) -> dict | None:
    """Each semantic mutant of the batched engine, and the check that killed it (or that it survived)."""
    if mutants is None:
        return None
    killed = sum(m.killed for m in mutants.mutants)
    return {"killed": killed, "survived": len(mutants.mutants) - killed, "mutants": mutants.mutants}


def equivalence_section(checks: tuple[EquivalenceCheck, ...]) -> list[dict]:
    """This run's checks of the batched engine against Keras, window by window."""
    return [{"experiment": e.experiment, "level": e.level, "windows": e.windows, "epochs": fmt_num(e.window_epochs),
             "ran": e.ran, "passed": e.passed, "detail": e.detail} for e in checks]
