"""Engines train seeds of one experiment and return :class:`RunRecord` s.

``keras``: the lesson's literal code path (``Sequential`` + ``fit``), one model
per seed.  ``batched``: all seeds as one TensorFlow program, checked against
``keras`` by :mod:`harness.windows` in every run.  Both train the batch order
``batch_order`` names (:mod:`harness.orders`).
"""
from __future__ import annotations

ENGINES = ("batched", "keras")


def train(engine: str, exp, seeds, batch_order: str = "lesson"):
    if engine == "keras":
        from .keras_engine import train as fn
    elif engine == "batched":
        from .batched import train as fn
    else:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    return fn(exp, list(seeds), batch_order=batch_order)
