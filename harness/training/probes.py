"""Probes: measurements a claim's explanation needs that no History records.

``clipping_engagement`` retrains a clipped configuration with the batched
engine's own program plus two counters, and reports how often clipping changed
a gradient: per seed and step, whether any variable's gradient came out of the
clip different from what went in, and how many of the per-variable gradients
did.  The counters do not touch the computation, so the probe's runs must be
bit-identical to the suite's own (checked, and reported).
"""
from __future__ import annotations


def _probe_program():
    import tensorflow as tf

    from .engines.batched import Program

    class ClipProbe(Program):
        def __init__(self, exp, split):
            super().__init__(exp, split)
            self.changed_steps = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.changed_grads = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.seed_steps = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.grads_seen = tf.Variable(0, dtype=tf.int64, trainable=False)

        def clip_all(self, grads):
            clipped = super().clip_all(grads)
            # (S,) per variable: did the clip change any element of this seed's gradient?
            changed = [tf.reduce_any(tf.not_equal(c, g), axis=list(range(1, len(g.shape))))
                       for c, g in zip(clipped, grads)]
            per_seed = tf.stack(changed, axis=1)  # (S, variables)
            self.changed_steps.assign_add(tf.reduce_sum(tf.cast(tf.reduce_any(per_seed, axis=1), tf.int64)))
            self.changed_grads.assign_add(tf.reduce_sum(tf.cast(per_seed, tf.int64)))
            self.seed_steps.assign_add(tf.cast(tf.shape(per_seed)[0], tf.int64))
            self.grads_seen.assign_add(tf.cast(tf.size(per_seed), tf.int64))
            return clipped

        def reset(self):
            for v in (self.changed_steps, self.changed_grads, self.seed_steps, self.grads_seen):
                v.assign(0)

    return ClipProbe


def clipping_engagement(name: str, seeds: list[int], suite_runs=None, batch_order: str = "lesson") -> dict:
    """How often clipping changed a gradient in ``name`` over ``seeds``; with
    ``suite_runs`` (the suite's records of the same seeds), whether the probe's
    runs are bit-identical to them."""
    from . import experiments
    from .engines import batched
    from .engines.common import split_for
    from .identical import identical_runs

    exp = experiments.get(name)
    if not (exp.clipnorm or exp.clipvalue):
        raise ValueError(f"{name} does not clip")
    program = _probe_program()
    prog = batched._program(exp, split_for(exp), program)
    prog.reset()
    runs = batched.train(exp, seeds, program=program, batch_order=batch_order)
    steps, changed = int(prog.seed_steps.numpy()), int(prog.changed_steps.numpy())
    grads, changed_grads = int(prog.grads_seen.numpy()), int(prog.changed_grads.numpy())
    clip = f"clipnorm={exp.clipnorm}" if exp.clipnorm else f"clipvalue={exp.clipvalue}"
    result = {
        "experiment": name, "clip": clip, "seeds": len(seeds), "seed_steps": steps,
        "steps_changed": changed, "steps_changed_share": changed / steps if steps else None,
        "gradients": grads, "gradients_changed": changed_grads,
        "identical_to_suite_runs": (identical_runs(runs, suite_runs) == len(runs)) if suite_runs else None,
    }
    result["sentence"] = (f"{clip} changed a gradient in {changed} of {steps} optimizer steps over {len(seeds)} "
                          f"seeds ({changed / steps:.1%}); {changed_grads} of {grads} per-variable gradients"
                          if steps else f"{clip}: no steps")
    return result


def initial_gradient(name: str, seeds: list[int], suite_runs=None, batch_order: str = "lesson") -> list[dict]:
    """Per seed, the gradient of the first batch at the initial weights (what ``init_grad_max_abs`` records
    the largest element of), summarised over every weight and bias: ``max_abs``, ``median_abs``, ``rms``
    (the root mean square: a typical weight's gradient) and ``l2`` (the norm clipnorm sees), computed by the
    batched engine's own program on the suite's first batch.  With ``suite_runs``, ``max_abs`` must equal the
    runs' recorded ``init_grad_max_abs`` within float32 rounding (``same_as_suite_runs``)."""
    import numpy as np

    from . import experiments, inside
    from .engines import batched, common

    exp = experiments.get(name)
    split = common.split_for(exp)
    n = len(split.train_x)
    prog = batched._program(exp, split, batched.Program)
    weights, _ = batched.batch_initial_weights(exp, seeds)
    flat = inside.first_batch_gradients(prog, prog.reinit(weights), inside.first_orders(exp, seeds, n, batch_order),
                                        exp.batch_size)
    size = np.abs(flat)
    out = []
    for i, seed in enumerate(seeds):
        row = {"seed": int(seed), "max_abs": float(size[i].max()), "median_abs": float(np.median(size[i])),
               "rms": float(np.sqrt(np.mean(flat[i] ** 2))), "l2": float(np.sqrt(np.sum(flat[i] ** 2))),
               "weights": int(flat.shape[1])}
        if suite_runs is not None:
            # within float32 rounding: a seed's last bits depend on its position in the batch (docs/findings.md)
            recorded = float(suite_runs[i].metrics["init_grad_max_abs"])
            row["same_as_suite_runs"] = bool(abs(row["max_abs"] - recorded) <= 1e-5 * abs(recorded))
        out.append(row)
    return out
