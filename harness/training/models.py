"""The lesson's Keras models, built from an :class:`Experiment`."""
from __future__ import annotations

from . import compat
from .experiments import Experiment

N_INPUTS = {"regression": 20, "circles": 2}


def _initializer_factory(kind: str):
    """Returns a zero-argument callable giving the initializer for the next layer.

    For "random_uniform_shared" it hands out the same instance every time, as the
    lesson's ``init = RandomUniform(minval=0, maxval=1)`` does.
    """
    k = compat.keras()
    if kind == "random_uniform_shared":
        shared = k.initializers.RandomUniform(minval=0, maxval=1)
        return lambda: shared
    if kind == "random_uniform_fresh":
        return lambda: k.initializers.RandomUniform(minval=0, maxval=1)
    return lambda: kind  # a string: Keras makes a fresh, differently seeded instance per layer


def build_layers(exp: Experiment):
    """The uncompiled Sequential MLP, layers added in the lesson's order, so the
    global RNG is consumed as the lesson's code consumes it.  Weights are drawn
    here; compiling draws nothing."""
    k = compat.keras()
    hidden = _initializer_factory(exp.hidden_init)
    # The lesson reuses its single ``init`` for the output layer too.
    output = hidden if exp.output_init == exp.hidden_init else _initializer_factory(exp.output_init)
    model = k.Sequential()
    model.add(k.Input(shape=(N_INPUTS[exp.dataset],)))  # the lesson's input_dim=...
    for _ in range(exp.hidden_layers):
        model.add(k.layers.Dense(exp.units, activation=exp.activation, kernel_initializer=hidden()))
    model.add(k.layers.Dense(1, activation=exp.output_activation, kernel_initializer=output()))
    return model


def build(exp: Experiment):
    """The lesson's model, compiled with its optimizer, loss and metrics."""
    model = build_layers(exp)
    opt = compat.sgd(exp.learning_rate, exp.momentum, exp.clipnorm, exp.clipvalue)
    metrics = ["accuracy"] if exp.classification else None
    model.compile(loss=exp.loss, optimizer=opt, metrics=metrics)
    return model
