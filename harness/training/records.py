"""What one training run leaves behind, and its strict-JSON form.

NaN is a result here (the unscaled regression diverges), so it must survive a
round trip: strict JSON has no NaN, so non-finite floats are written as the
strings "NaN", "Infinity" and "-Infinity" and read back as floats.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(x: float) -> float | str:
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


def to_jsonable(obj):
    if isinstance(obj, float):
        return encode_float(obj)
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalar
        return to_jsonable(obj.item())
    return obj


def from_jsonable(obj):
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    if isinstance(obj, dict):
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return obj


def dumps(obj, **kw) -> str:
    return json.dumps(to_jsonable(obj), allow_nan=False, **kw)


def loads(text: str):
    return from_jsonable(json.loads(text))


def read_schema_file(path) -> dict:
    """A JSON file of ours with a "schema" key, or ValueError naming the file
    (unreadable, not UTF-8, invalid or truncated JSON, no schema)."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    try:
        data = loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON, truncated? ({exc})") from None
    if not isinstance(data, dict) or "schema" not in data:
        raise ValueError(f"{path}: not a lesson-claims results or summary file (no 'schema')")
    return data


@dataclass
class RunRecord:
    """One seed of one experiment, trained by one engine."""

    experiment: str
    fingerprint: str
    seed: int
    engine: str
    epochs: int
    # per-epoch lists: loss, val_loss, and accuracy / val_accuracy for classifiers
    history: dict[str, list[float]]
    # final evaluate() on train and test: train_loss, test_loss, train_accuracy,
    # test_accuracy; first_nonfinite_epoch (1-based, None if the loss stayed
    # finite); init_grad_max_abs (largest |dLoss/dw| on the first batch at the
    # initial weights); regression runs add test_rmse_original_units.
    metrics: dict[str, float | int | None]
    wall_seconds: float = 0.0
    device: str = "cpu"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        return cls(**d)


def first_nonfinite_epoch(losses) -> int | None:
    """1-based epoch of the first NaN or infinite training loss, else None."""
    for i, v in enumerate(losses):
        if not math.isfinite(v):
            return i + 1
    return None
