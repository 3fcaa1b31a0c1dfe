"""The probes inside training (harness.training.inside): each quantity checked against TensorFlow on the Keras
model loaded with the same weights, the probed runs bit-identical to the engine's own, and a probe a model
cannot give refused when the claim is collected."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness.spec import Claim, Reading, SpecError, identical_runs
from harness.statistics.rates import RateRule
from harness.training import experiments, inside
from harness.training.inside_quantities import Use

ALL = sorted(experiments.EXPERIMENTS)
EPOCHS = 6  # a short run: the probe functions are checked on states of it, not on the claims' runs
STATES = (0, 3, 6)
SEEDS = [0, 1]
RTOL = 1e-6  # the bound; measured at most 1.5e-14 (both sides in float64)


def _keras_side(exp, weights, idx_batch):
    """The same quantities computed by TensorFlow on the lesson's Keras model with ``weights`` loaded."""
    import tensorflow as tf

    from harness.training import compat, models
    from harness.training.engines.common import split_for

    k = compat.keras()
    split = split_for(exp)
    backend = getattr(k, "config", k.backend)
    floatx = backend.floatx()
    # as the probe measures: float64, finer than the float32 it measures; the global dtype policy too (a test
    # before this one in the same process may have fixed it at float32, which floatx then no longer moves)
    policy = getattr(backend, "dtype_policy", None) or k.mixed_precision.global_policy
    set_policy = getattr(backend, "set_dtype_policy", None) or k.mixed_precision.set_global_policy
    before = policy()
    backend.set_floatx("float64")
    set_policy("float64")
    try:
        model = models.build(exp)
    finally:
        backend.set_floatx(floatx)
        set_policy(before)
    assert all(str(w.dtype).endswith("float64") for w in model.weights), "the reference must be float64"
    model.set_weights([np.asarray(w, np.float64) for w in weights])
    loss_fn = k.losses.get(exp.loss)

    def grads(x, y):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(tf.constant(y), model(tf.constant(x), training=False)))
        g = tape.gradient(loss, [layer.kernel for layer in model.layers])
        return [float(np.linalg.norm(np.asarray(t, np.float64))) for t in g]

    out = {"grad_norm": grads(split.train_x, split.train_y),
           "weight_norm": [float(np.linalg.norm(np.asarray(w, np.float64))) for w in weights[0::2]]}
    if idx_batch is not None:
        out["batch_grad_norm"] = grads(split.train_x[idx_batch], split.train_y[idx_batch])
    h = tf.constant(np.asarray(split.train_x, np.float64))
    hidden = []
    for layer in model.layers[:-1]:
        h = layer(h)
        hidden.append(np.asarray(h))
    if exp.activation == "tanh":
        out["saturated"] = [float(np.mean(np.abs(a) > inside.SATURATED)) for a in hidden]
    if exp.activation == "relu":
        out["zeros"] = [float(np.mean(a == 0.0)) for a in hidden]
        out["dead_units"] = [float(np.sum(np.all(a == 0.0, axis=0))) for a in hidden]
    return out, int(split.train_x.shape[0]) * exp.units


@pytest.mark.parametrize("name", ALL)
def test_every_probe_matches_tensorflow_on_the_keras_model_with_the_same_weights(name):
    from harness.training import orders
    from harness.training.engines import batched
    from harness.training.engines.common import split_for

    exp = experiments.get(name).with_epochs(EPOCHS)
    runs = batched.train(exp, SEEDS, checkpoints=STATES)
    split = split_for(exp)
    n = len(split.train_x)
    prog = batched._program(exp, split, batched.Program)
    checked = 0
    for e in STATES:
        states = [r.extra["states"][e] for r in runs]
        if not all(np.isfinite(w).all() for s in states for w in s["weights"]):
            continue  # a diverged state measures NaN, tested apart
        params = [np.stack([s["weights"][i] for s in states]) for i in range(len(states[0]["weights"]))]
        moms = [np.stack([s["momentums"][i] for s in states]) for i in range(len(states[0]["momentums"]))]
        nxt = (np.stack([orders.lesson_orders(s, n, e, e + 1)[0][:exp.batch_size] for s in SEEDS])
               if e < exp.epochs else None)
        ours = inside.measure(prog, params, moms, nxt)
        for i, seed in enumerate(SEEDS):
            theirs, outputs = _keras_side(exp, states[i]["weights"], None if nxt is None else nxt[i])
            for key, want in theirs.items():
                got = ours[key][i]
                if key in ("saturated", "zeros", "dead_units"):
                    # a threshold or an exact zero can flip on one output whose value differs in its last bit
                    tol = 1.0 if key == "dead_units" else 1.0 / n
                    assert np.allclose(got, want, rtol=0, atol=tol), (name, seed, e, key, got, want)
                else:
                    assert np.allclose(got, want, rtol=RTOL, atol=1e-12), (name, seed, e, key, got, want)
            checked += 1
            assert np.allclose(ours["update_norm"][i], [np.linalg.norm(m) for m in states[i]["momentums"][0::2]],
                               rtol=RTOL)
    assert checked >= 1, f"{name}: no finite state to check"


@pytest.mark.parametrize("name", ["reg_unscaled", "reg_unscaled_clipnorm", "reg_target_standard", "circles_relu5",
                                  "circles_tanh5_fresh"])
def test_probed_runs_are_bit_identical_to_the_engines_own(name):
    from harness.training.engines import batched

    exp = experiments.get(name)
    exp = exp.with_epochs(30) if exp.dataset == "circles" else exp
    seeds = [0, 1, 2, 3]
    plain, probed = batched.train(exp, seeds), inside.train(exp, seeds)
    assert identical_runs(plain, probed) == len(seeds)
    for r in probed:
        assert "states" not in r.extra and set(inside.quantities(exp)) <= set(r.extra["inside"])


def test_step_counters_tell_when_and_how_the_unscaled_model_blew_up():
    from harness.training import probes

    runs = inside.train(experiments.get("reg_unscaled"), list(range(6)))
    steps = 16  # 500 samples in batches of 32
    for r in runs:
        got = r.extra["inside"]
        assert got["first_nonfinite_step"] is not None
        # the first non-finite weight comes from the step whose loss is the first non-finite one, or the one before
        epoch_of_step = (got["first_nonfinite_step"] - 1) // steps + 1
        assert epoch_of_step <= r.metrics["first_nonfinite_epoch"]
        assert got["peak_weight_norm"] > got["first_weight_norm"] > 0
        # the batch of 32 at the initial weights is the one init_grad_max_abs records
        assert got["batch_size_grad_max"][1] == pytest.approx(r.metrics["init_grad_max_abs"], rel=1e-6)
        assert all(math.isnan(v) for v in got["grad_norm"][-1])  # the diverged end measures NaN: counted, kept
    clipped = inside.train(experiments.get("reg_unscaled_clipnorm"), list(range(6)))
    engaged = probes.clipping_engagement("reg_unscaled_clipnorm", list(range(6)))
    # no clipped run diverges, so every step counts: the per-seed shares average to the probe's total share
    assert np.mean([r.extra["inside"]["clip_changed_share"] for r in clipped]) == pytest.approx(
        engaged["steps_changed_share"], abs=1e-9)
    for r in clipped:
        assert r.extra["inside"]["first_nonfinite_step"] is None
        assert r.extra["inside"]["peak_weight_norm"] >= max(np.max(w) for w in r.extra["inside"]["weight_norm"][1:])


def test_a_probe_a_model_cannot_give_is_refused_naming_what_is_missing():
    relu5, tanh5, reg = (experiments.get(n) for n in ("circles_relu5", "circles_tanh5_fresh", "reg_unscaled"))
    assert "tanh layers" in Use("saturated").problem(relu5)
    assert "relu layers" in Use("dead_units").problem(tanh5)
    assert "regression models only" in Use("peak_weight_norm").problem(relu5)
    assert "past the depth" in Use("grad_norm", (6,)).problem(relu5)  # 5 hidden + output: 0..5
    assert Use("grad_norm", (5, -6)).problem(relu5) is None
    assert "past the depth" in Use("zeros", (5,)).problem(relu5)  # hidden layers only: 0..4
    assert "has no layers" in Use("first_nonfinite_step", (0,)).problem(reg)
    assert "not a probe quantity" in Use("curvature").problem(reg)


def _claim(**kw):
    rule = RateRule("circles_relu5", bool, 0.5, "greater", "hit", (0.4, 0.6))
    return dict(id="probe_spec", section="1", quote="q", interpretation="i", rule="r", experiments=("circles_relu5",),
                metric="m", metric_fn=float, decide=rule, uncontested="u", **kw)


def test_a_claim_reading_a_probe_its_model_lacks_is_a_spec_error_naming_the_claim():
    Claim(**_claim(inside=(Use("zeros"),)))
    with pytest.raises(SpecError, match="claim probe_spec: 'saturated' is measured on tanh layers"):
        Claim(**_claim(inside=(Use("saturated"),)))
    with pytest.raises(SpecError, match="claim probe_spec: layer 9 of 'grad_norm' is past the depth"):
        Claim(**_claim(inside=(Use("grad_norm", (9,)),)))
    with pytest.raises(SpecError, match="reads the probe 'zeros' on circles_relu20, which it does not train"):
        Claim(**_claim(inside=(Use("zeros", (), ("circles_relu20",)),)))
    reading = Reading("r", "w", RateRule("circles_relu5", bool, 0.5, "greater", "hit", (0.4, 0.6)),
                      inside=(Use("saturated_90"),))
    kw = _claim()
    kw.pop("uncontested")
    with pytest.raises(SpecError, match="claim probe_spec: reading 'r': 'saturated_90' is measured on tanh"):
        Claim(**kw, readings=(reading,))


def test_a_bad_probe_is_a_collection_error_through_pytest(tmp_path):
    from harness.tests.test_claim_specs import collect_spec

    out = collect_spec(tmp_path,
                       "from harness.training.inside_quantities import Use\n"
                       "CLAIMS = [Claim(id='saturated_relu', section='1', quote='q', interpretation='i', rule='r',\n"
                       "                experiments=('circles_relu5',), metric='m', metric_fn=float, uncontested='u',\n"
                       "                decide=RateRule('circles_relu5', bool, 0.5, 'greater', 'hit', (0.4, 0.6)),\n"
                       "                inside=(Use('saturated'),))]\n")
    assert out.returncode != 0
    assert "claim saturated_relu: 'saturated' is measured on tanh layers" in out.stdout + out.stderr


def test_a_claim_reading_probes_is_not_testable_on_an_engine_that_records_none():
    from harness.spec import Evidence
    from harness.runner import NotRecorded

    rule = RateRule("circles_relu5", bool, 0.5, "greater", "hit", (0.4, 0.6))
    d = NotRecorded(rule, (Use("zeros"),))(Evidence({"circles_relu5": []}), alpha=0.005)
    assert d.untestable and "zeros" in d.untestable and d.label == "NOT TESTABLE HERE" and d.p_value is None
    assert NotRecorded(rule, ()).zone == rule.zone and NotRecorded(rule, ()).threshold == 0.5


def test_probe_epochs_are_the_start_every_tenth_and_the_end():
    assert inside.probe_epochs(experiments.get("circles_relu5")) == tuple(range(0, 501, 50))
    assert inside.probe_epochs(experiments.get("reg_unscaled")) == tuple(range(0, 101, 10))
    assert inside.probe_epochs(experiments.get("reg_unscaled").with_epochs(6)) == (0, 1, 2, 3, 4, 5, 6)
