"""Every configuration the lesson trains, defined once, as data.

An :class:`Experiment` says what the lesson's code does (dataset, scaling,
layers, initializers, optimizer, epochs, batch size); engines read it and
nothing else.  Its fingerprint, a hash of its fields, keys the run store.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

# The lesson's optimizer in every example: SGD(lr=0.01, momentum=0.9).
LEARNING_RATE = 0.01
MOMENTUM = 0.9
BATCH_SIZE = 32  # Keras' default; the lesson never passes batch_size

# Initializers.  "random_uniform_shared" is the lesson's literal code: ONE
# RandomUniform(0, 1) instance reused for every layer.  Under Keras 3 (and
# tf-keras >= 2.10) an unseeded instance draws the same values on every call,
# so same-shaped layers get identical weights.  "random_uniform_fresh" builds a
# new instance per layer, which is what the lesson's author meant.
INITIALIZERS = ("he_uniform", "glorot_uniform", "random_uniform_shared", "random_uniform_fresh")


@dataclass(frozen=True)
class Experiment:
    name: str
    section: str
    description: str
    dataset: str  # "regression" | "circles"
    input_scaler: str
    target_scaler: str
    hidden_layers: int
    units: int
    activation: str
    hidden_init: str
    output_activation: str
    output_init: str
    loss: str  # "mean_squared_error" | "binary_crossentropy"
    epochs: int
    batch_size: int = BATCH_SIZE
    learning_rate: float = LEARNING_RATE
    momentum: float = MOMENTUM
    clipnorm: float | None = None
    clipvalue: float | None = None

    def __post_init__(self):
        for init in (self.hidden_init, self.output_init):
            if init not in INITIALIZERS:
                raise ValueError(f"{self.name}: unknown initializer {init!r}")

    @property
    def classification(self) -> bool:
        return self.loss == "binary_crossentropy"

    def fields(self) -> dict:
        """What defines the training (name, section and prose excluded)."""
        d = dataclasses.asdict(self)
        for k in ("name", "section", "description"):
            d.pop(k)
        return d

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.fields(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_epochs(self, epochs: int) -> "Experiment":
        return dataclasses.replace(self, epochs=epochs)


def _regression(name, section, description, input_scaler="none", target_scaler="none", **kw):
    # 20 -> Dense(25, relu, he_uniform) -> Dense(1, linear); Keras' default
    # glorot_uniform on the output layer; MSE; 100 epochs.
    return Experiment(
        name=name, section=section, description=description, dataset="regression",
        input_scaler=input_scaler, target_scaler=target_scaler, hidden_layers=1, units=25,
        activation="relu", hidden_init="he_uniform", output_activation="linear",
        output_init="glorot_uniform", loss="mean_squared_error", epochs=100, **kw,
    )


def _circles(name, section, description, hidden_layers, activation, hidden_init, output_init):
    # 2 -> hidden_layers x Dense(5) -> Dense(1, sigmoid); inputs MinMax-scaled to
    # [-1, 1]; binary cross-entropy with accuracy; 500 epochs.
    return Experiment(
        name=name, section=section, description=description, dataset="circles",
        input_scaler="minmax_pm1", target_scaler="none", hidden_layers=hidden_layers, units=5,
        activation=activation, hidden_init=hidden_init, output_activation="sigmoid",
        output_init=output_init, loss="binary_crossentropy", epochs=500,
    )


_ALL = [
    _regression("reg_unscaled", "2.1.2.1", "unscaled inputs and target"),
    _regression("reg_target_standard", "2.1.2.2", "standardized target, unscaled inputs",
                target_scaler="standard"),
    _regression("reg_target_minmax", "2.1.2.2", "normalized target (the lesson's suggested experiment)",
                target_scaler="minmax"),
    _regression("reg_input_minmax", "2.1.2.3", "normalized inputs, standardized target",
                input_scaler="minmax", target_scaler="standard"),
    _regression("reg_input_standard", "2.1.2.3", "standardized inputs and target",
                input_scaler="standard", target_scaler="standard"),
    _regression("reg_unscaled_clipnorm", "2.3.2.2", "unscaled data, SGD clipnorm=1.0", clipnorm=1.0),
    _regression("reg_unscaled_clipvalue", "2.3.2.3", "unscaled data, SGD clipvalue=5.0", clipvalue=5.0),
    _regression("reg_scaled_clipnorm", "2.3.1", "standardized target, SGD clipnorm=1.0",
                target_scaler="standard", clipnorm=1.0),
    _regression("reg_scaled_clipvalue", "2.3.1", "standardized target, SGD clipvalue=5.0",
                target_scaler="standard", clipvalue=5.0),
    # The lesson's own example value for clipvalue (2.3.1.2: "clipvalue=0.5"), on the stable problem
    # where its "no general improvement" sentence applies; 5.0 never engages there (docs/findings.md).
    _regression("reg_scaled_clipvalue_half", "2.3.1", "standardized target, SGD clipvalue=0.5",
                target_scaler="standard", clipvalue=0.5),
    _circles("circles_tanh1", "2.2.3.1", "1 tanh hidden layer, the lesson's shared RandomUniform(0, 1)",
             1, "tanh", "random_uniform_shared", "random_uniform_shared"),
    _circles("circles_tanh1_fresh", "2.2.3.1", "1 tanh hidden layer, a fresh RandomUniform(0, 1) per layer (the "
             "author's Keras)", 1, "tanh", "random_uniform_fresh", "random_uniform_fresh"),
    _circles("circles_tanh5_literal", "2.2.3.2", "5 tanh hidden layers, ONE shared RandomUniform(0, 1) (lesson code)",
             5, "tanh", "random_uniform_shared", "random_uniform_shared"),
    _circles("circles_tanh5_fresh", "2.2.3.2", "5 tanh hidden layers, a fresh RandomUniform(0, 1) per layer",
             5, "tanh", "random_uniform_fresh", "random_uniform_fresh"),
    _circles("circles_relu5", "2.2.3.3", "5 ReLU hidden layers, He uniform", 5, "relu", "he_uniform", "glorot_uniform"),
    _circles("circles_relu15", "2.2.3.3", "15 ReLU hidden layers, He uniform", 15, "relu", "he_uniform", "glorot_uniform"),
    _circles("circles_relu20", "2.2.3.3", "20 ReLU hidden layers, He uniform", 20, "relu", "he_uniform", "glorot_uniform"),
]

EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in _ALL}
assert len(EXPERIMENTS) == len(_ALL), "experiment names must be unique"


def get(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None
