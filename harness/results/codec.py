"""The one codec of the results model: ``write(results, runs, out_dir)`` and ``read(path)``.

``results.json`` is strict JSON (:mod:`harness.training.records`, so NaN and inf
survive as "NaN" / "Infinity"); the per-epoch histories go to the gzip sidecar
``runs.json.gz``, named with its digest in ``runs_file``.  Decoding is driven by
the model's type hints: a field of the wrong type is refused with the file, the
field's path and the type expected.  Files of schemas 1 and 2 are migrated here,
inside the decoder, and nowhere else.
"""
from __future__ import annotations

import dataclasses
import enum
import gzip
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.results import model
from harness.statistics.sequential import LOOKS
from harness.storage.store import atomic_write_bytes
from harness.training import records

RESULTS_NAME = "results.json"
RUNS_NAME = "runs.json.gz"
SCHEMA_1 = "lesson-claims/results/1"
SCHEMA_2 = "lesson-claims/results/2"
SUMMARY_1 = "lesson-claims/summary/1"  # summaries had a format of their own before schema 3
READABLE = (SCHEMA_1, SCHEMA_2, SUMMARY_1, model.SCHEMA)


class ResultsError(ValueError):
    """A results file or object that cannot be used; the message names the file and the field."""


# ------------------------------------------------------------------ encoding


def to_data(obj) -> Any:
    """Plain JSON-ready data: dataclasses by field, enums by value, tuples as lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # a numpy scalar
        return obj.item()
    return obj


def encode(obj, **kw) -> str:
    return records.dumps(to_data(obj), **kw)


# ------------------------------------------------------------------ decoding, by the type hints


def _name(tp) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(m.value for m in tp)
    if isinstance(tp, type):
        return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
            tp.__name__, tp.__name__)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin in (dict, Mapping):
        return "an object"
    return str(tp)


def _err(where: str, message: str) -> ResultsError:
    return ResultsError(f"{where.rstrip(':')}: {message}")


def _at(where: str, name: str) -> str:
    """The path of a field: ``f.json: claim 'a': effect.value`` (a claim is named by its id)."""
    return f"{where} {name}" if where.endswith(":") else f"{where}.{name}"


def as_type(tp, data: Any, where: str):
    """``data`` (decoded JSON) as an instance of the type ``tp``; ResultsError naming ``where`` otherwise."""
    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return as_type(a, data, where)
            except ResultsError as exc:
                errors.append(exc)
        others = [a for a in args if a is not type(None)]
        if len(errors) == 1 and others[0] not in (int, float, str, bool):
            raise errors[0]  # the nested field at fault says more than the union
        raise _err(where, f"{_got(data)}, expected {_name(tp)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, list):
            raise _err(where, f"{_got(data)}, expected {_name(tp)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(as_type(args[0], v, f"{where.rstrip(':')}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise _err(where, f"{len(data)} items, expected {len(args)}")
        return tuple(as_type(a, v, f"{where.rstrip(':')}[{i}]") for i, (a, v) in enumerate(zip(args, data)))
    if origin is list:
        (arg,) = typing.get_args(tp)
        if not isinstance(data, list):
            raise _err(where, f"{_got(data)}, expected {_name(tp)}")
        return [as_type(arg, v, f"{where.rstrip(':')}[{i}]") for i, v in enumerate(data)]
    if origin in (dict, Mapping):
        _, arg = typing.get_args(tp)
        if not isinstance(data, Mapping):
            raise _err(where, f"{_got(data)}, expected {_name(tp)}")
        return {str(k): as_type(arg, v, _at(where, str(k))) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise _err(where, f"{data!r} is not one of {', '.join(m.value for m in tp)}") from None
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, data, where)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise _err(where, f"{_got(data)}, expected a number")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _err(where, f"{_got(data)}, expected an integer")
        return data
    if tp in (str, bool):
        if not isinstance(data, tp):
            raise _err(where, f"{_got(data)}, expected {_name(tp)}")
        return data
    raise TypeError(f"{where}: the codec has no rule for {tp!r}")


def _got(data) -> str:
    if data is None:
        return "null"
    text = json.dumps(data, default=str) if not isinstance(data, str) else repr(data)
    return f"{type(data).__name__} {text[:40]}"


_HINTS: dict[type, dict] = {}


def _dataclass(cls, data: Any, where: str):
    if not isinstance(data, Mapping):
        raise _err(where, f"{_got(data)}, expected an object ({cls.__name__})")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    kw = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _err(where, f"missing field {f.name!r} ({_name(hints[f.name])})")
            continue
        kw[f.name] = as_type(hints[f.name], data[f.name], _at(where, f.name))
    try:
        return cls(**kw)
    except (TypeError, ValueError) as exc:
        raise _err(where, f"{exc}") from None


# ------------------------------------------------------------------ older files


def _migrate_claim(c: dict, environment: Mapping) -> dict:
    """A schema-1 or -2 claim in schema-3 form: the expectation as its spec, looks with their decisions."""
    c = dict(c)
    exp = c.pop("expectation", None)
    expected_verdict = c.pop("expected_verdict", None)
    expected_label = c.pop("expected_label", None)
    verdict = (exp or {}).get("verdict") or expected_verdict or c.get("verdict")
    lab = expected_label if expected_label and expected_label not in model.VERDICTS else None
    ranges = (exp or {}).get("ranges") or {}
    fp = str(environment.get("fingerprint") or "")
    c["expectation"] = {"verdict": verdict, "why": (exp or {}).get("why") or "", "label": lab,
                        "pins": {fp.rsplit("-", 1)[0]: ranges} if ranges else {}}
    if exp and not exp.get("passed", True):
        c["expectation_missed"] = [exp.get("message") or "not as expected"]
    effect = c.get("effect") or {}
    looks = []
    for lk in c.get("looks") or []:
        lk = dict(lk)
        seconds = lk.pop("seconds", None)
        decision = {"verdict": lk.get("verdict"), "test": c.get("test") or "", "p_value": lk.get("p_value"),
                    "alpha": lk.get("alpha") if lk.get("alpha") is not None else (c.get("alpha") or 0.0),
                    "effect_name": effect.get("name") or "", "effect": lk.get("effect"),
                    "ci_low": lk.get("ci_low"), "ci_high": lk.get("ci_high"),
                    "at_threshold": bool(lk.get("at_threshold")), "untestable": lk.get("untestable")}
        looks.append({"seeds": lk.get("seeds"), "decision": decision, "seconds": seconds or 0.0})
    c["looks"] = looks
    if "design" in c:
        c["comparison"] = c.pop("design")
    seq = c.pop("sequential", None)
    if isinstance(seq, Mapping) and seq.get("looks"):
        c["plan"] = {"looks": seq["looks"]}
    legacy = c.pop("metric_values", None)
    if "outcomes" not in c and c.get("test") == "exact binomial" and isinstance(legacy, Mapping) and all(
            isinstance(v, list) and all(x in (0, 1) for x in v) for v in legacy.values()):
        c["outcomes"] = {k: [bool(x) for x in v] for k, v in legacy.items()}  # schema 1: a rate rule's 0/1 hits
    if isinstance(effect, Mapping) and effect:
        effect = dict(effect)
        if "absolute" not in effect:  # before the flag, the rules decided by TOST were the ones on |effect|
            effect["absolute"] = "TOST" in str(c.get("test") or "") and bool(effect.get("zone"))
        if "threshold" not in effect:  # schema 1: P(superiority) against 0.5, a rate against its detail's p0
            m = re.search(r"claimed rate [<>] ([0-9.]+)", str(c.get("detail") or ""))
            effect["threshold"] = (0.5 if str(effect.get("name") or "").startswith("P(")
                                   else float(m.group(1)) if m else None)
        c["effect"] = effect
    if c.get("seeds") is None:
        values = c.get("metric_samples") or c.get("outcomes")
        n = [len(v) for v in values.values() if isinstance(v, list)] if isinstance(values, Mapping) else []
        if n:
            c["seeds"] = max(n)
        else:  # schema 1 wrote the seed count only into the detail text
            m = re.search(r"(\d+) seeds", c.get("detail") or "")
            c["seeds"] = int(m.group(1)) if m else None
    return c


def migrate(data: Mapping, source: str) -> tuple[dict, list | None]:
    """Schema-3 data, and the inline runs of a schema-1 file (None when the sidecar holds them)."""
    data = dict(data)
    schema = data.get("schema")
    if schema not in READABLE:
        raise ResultsError(f"{source}: schema {schema!r} is not a results schema this suite reads "
                           f"({', '.join(READABLE)})")
    runs = data.pop("runs", None)
    if schema == model.SCHEMA:
        return data, runs
    env = data.get("environment") if isinstance(data.get("environment"), Mapping) else {}
    claims = data.get("claims")
    if isinstance(claims, list):
        data["claims"] = [_migrate_claim(c, env) if isinstance(c, Mapping) else c for c in claims]
    design = data.get("design")
    if isinstance(design, Mapping) and isinstance(design.get("sequential"), Mapping):
        data["design"] = {**design, "sequential": {"looks": design["sequential"].get("looks") or list(LOOKS)}}
    variants = data.get("variants")
    if isinstance(variants, Mapping):
        data["variants"] = {k: {**v, "claims": {cid: {kk: vv for kk, vv in vc.items() if kk != "effect" or vv}
                                                 for cid, vc in (v.get("claims") or {}).items()}}
                            for k, v in variants.items() if isinstance(v, Mapping)}
    if data.get("variants") is None:
        data.pop("variants", None)
    data["schema"] = model.SCHEMA
    return data, runs


def from_data(data: Any, source: str = "results") -> tuple[model.Results, list | None]:
    if not isinstance(data, Mapping):
        raise ResultsError(f"{source}: not a lesson-claims results or summary file (no 'schema')")
    data, runs = migrate(data, source)
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        raise ResultsError(f"{source}: no claims (field 'claims' is {'empty' if claims == [] else 'missing'})")
    typed = []
    for i, c in enumerate(claims):
        cid = c.get("id") if isinstance(c, Mapping) else None
        typed.append(as_type(model.ClaimResult, c, f"{source}: claim {cid!r}:" if isinstance(cid, str) and cid
                             else f"{source}: claims[{i}]"))
    results = as_type(model.Results, {**data, "claims": []}, source)
    return dataclasses.replace(results, claims=tuple(typed)), runs


def decode(text: str, source: str = "results") -> model.Results:
    return decode_with_runs(text, source)[0]


def decode_with_runs(text: str, source: str = "results") -> tuple[model.Results, list | None]:
    try:
        data = records.loads(text)
    except ValueError as exc:
        raise ResultsError(f"{source}: not valid JSON, truncated? ({exc})") from None
    return from_data(data, source)


def decode_claim(text: str, source: str = "claim") -> model.ClaimResult:
    return as_type(model.ClaimResult, records.loads(text), source)


# ------------------------------------------------------------------ files


def runs_bytes(runs: list) -> bytes:
    """The sidecar's bytes: gzip (no name, no time stamp, so deterministic) of strict JSON."""
    text = records.dumps({"schema": model.SCHEMA, "runs": runs}, separators=(",", ":")) + "\n"
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def write(results: model.Results, runs: list, out_dir: Path) -> Path:
    """``out_dir/runs.json.gz`` (the histories), then ``out_dir/results.json`` naming it; each atomic."""
    out_dir = Path(out_dir)
    blob = runs_bytes(runs)
    atomic_write_bytes(out_dir / RUNS_NAME, blob)
    results = dataclasses.replace(results, runs_file=model.RunsFile(
        path=RUNS_NAME, runs=len(runs), sha256=hashlib.sha256(blob).hexdigest()))
    path = out_dir / RESULTS_NAME
    atomic_write_bytes(path, (encode(results, indent=1) + "\n").encode("utf-8"))
    return path


def read(path: Path) -> tuple[model.Results, list, str | None]:
    """The results at ``path``, their per-epoch runs (inline in schema-1 files, else from the sidecar) and,
    where there are none, a note saying why (sidecar missing, or not the one written with this file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    try:
        schema = json.loads(text).get("schema")
    except (ValueError, AttributeError):
        schema = None
    if schema == SUMMARY_1:
        raise ResultsError(f"{path}: schema {schema!r} is a summary, not a results file; give the results.json a "
                           "run wrote into its --claims-report-dir (summaries go to `python -m harness compare`)")
    results, runs = decode_with_runs(text, str(path))
    if isinstance(runs, list):
        return results, runs, None
    ref = results.runs_file
    if ref is None:
        return results, [], "this results file names no runs sidecar"
    side = path.parent / ref.path
    try:
        blob = side.read_bytes()
    except OSError:
        return results, [], f"sidecar {side.name} missing"
    if hashlib.sha256(blob).hexdigest() != ref.sha256:
        return results, [], f"sidecar {side.name} is not the one written with this results.json"
    try:
        loaded = records.loads(gzip.decompress(blob).decode("utf-8"))
    except (OSError, ValueError, EOFError) as exc:
        return results, [], f"sidecar {side.name} unreadable: {exc}"
    return results, list(loaded.get("runs") or []) if isinstance(loaded, Mapping) else [], None


def load(path: Path) -> model.Results:
    return read(path)[0]
