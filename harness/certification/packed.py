"""A certificate's compact file: ``<environment fingerprint>.npz``, small enough to commit.

The certificate itself stays one JSON document (its checksum is computed over it, see
:mod:`harness.certification.certificate`); this module only changes how it is stored.  Every
float32 payload (the training states at the checkpoints, and every per-epoch History, envelope and
reference series, which the JSON holds as base64) moves into binary arrays; what remains is the
JSON skeleton, with a placeholder where each payload was.  Unpacking rebuilds the identical JSON,
so the checksum, and every check on load, are the same as for the ``.json`` file.

Why the states compress: consecutive checkpoints of one run share the sign, exponent and top
mantissa bits of most weights.  So the states of each length (one per architecture) are stacked in
the order the certificate lists them (a trajectory seed's checkpoints one after the other), each row
XOR-ed with the row before it, and their bytes regrouped by significance (the HDF5/Blosc "shuffle"
filter) before LZMA: lossless (what it saves, measured: docs/costs.md).
"""
from __future__ import annotations

import base64
import io
import json
import lzma
import zipfile
from pathlib import Path

import numpy as np

SCHEMA = "lesson-claims/certificate-file/1"
SUFFIX = ".npz"
_STATE, _SERIES = "$state", "$series"


class PackError(ValueError):
    """A packed file that is not one: unreadable, truncated, or with a placeholder that points nowhere."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _shuffle(rows: np.ndarray) -> bytes:
    """XOR each row with the one before it, then bytes by significance; the inverse is :func:`_unshuffle`."""
    words = rows.view("<u4").copy()
    words[1:] ^= rows.view("<u4")[:-1]
    return np.ascontiguousarray(words.view(np.uint8).reshape(*words.shape, 4).transpose(2, 0, 1)).tobytes()


def _unshuffle(raw: bytes, n: int, size: int) -> np.ndarray:
    planes = np.frombuffer(raw, np.uint8)
    if planes.size != 4 * n * size:
        raise PackError(f"a state block of {planes.size} bytes, expected {4 * n * size}")
    words = np.ascontiguousarray(planes.reshape(4, n, size).transpose(1, 2, 0)).view("<u4").reshape(n, size)
    return np.bitwise_xor.accumulate(words, axis=0)


def pack(doc: dict) -> bytes:
    """The certificate ``doc`` (as its JSON holds it: base64 strings) as the bytes of an ``.npz`` file."""
    states: dict[int, list[bytes]] = {}
    series: list[bytes] = []
    at = [0]

    def walk(node, key=None):
        if isinstance(node, dict):
            return {k: (take_history(v) if k == "history" and isinstance(v, dict) and
                        all(isinstance(x, str) for x in v.values())
                        else take_state(v) if k == "state" and isinstance(v, str) else walk(v, k))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    def take_state(text):
        raw = base64.b64decode(text, validate=True)
        rows = states.setdefault(len(raw) // 4, [])
        rows.append(raw)
        return {_STATE: [len(raw) // 4, len(rows) - 1]}

    def take_history(hist):
        out = {}
        for k, text in hist.items():
            raw = base64.b64decode(text, validate=True)
            out[k] = {_SERIES: [at[0], len(raw) // 4]}
            series.append(raw)
            at[0] += len(raw) // 4
        return out

    skeleton = walk(doc)
    arrays = {"skeleton": np.frombuffer(json.dumps({"schema": SCHEMA, "doc": skeleton},
                                                   separators=(",", ":")).encode(), np.uint8)}
    for size, rows in sorted(states.items()):
        block = np.frombuffer(b"".join(rows), "<f4").reshape(len(rows), size)
        arrays[f"states_{size}x{len(rows)}"] = np.frombuffer(lzma.compress(_shuffle(block), preset=9), np.uint8)
    flat = np.frombuffer(b"".join(series), "<f4").reshape(1, -1)
    arrays[f"series_{flat.size}"] = np.frombuffer(lzma.compress(_shuffle(flat), preset=9), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # the arrays are compressed already: a stored (not deflated) zip
    packed = buf.getvalue()
    if unpack(packed) != doc:  # lossless, or nothing is written
        raise PackError("packing is not lossless for this certificate")
    return packed


def unpack(data: bytes | Path) -> dict:
    """The certificate's JSON document, rebuilt; :class:`PackError` when the file is not a packed one."""
    try:
        raw = Path(data).read_bytes() if isinstance(data, Path) else data
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        head = json.loads(arrays.pop("skeleton").tobytes().decode("utf-8"))
        if not isinstance(head, dict) or head.get("schema") != SCHEMA:
            raise PackError(f"expected schema {SCHEMA!r}")
        states, series = {}, None
        for name, arr in arrays.items():
            kind, _, shape = name.partition("_")
            if kind == "states":
                size, n = (int(x) for x in shape.split("x"))
                states[size] = _unshuffle(lzma.decompress(arr.tobytes()), n, size)
            elif kind == "series":
                series = _unshuffle(lzma.decompress(arr.tobytes()), 1, int(shape))[0]
            else:
                raise PackError(f"unknown array {name!r}")
    except PackError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise PackError(f"not a packed certificate, or truncated ({type(exc).__name__}: {exc})") from None

    def pair(node, key):
        value = node[key]
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(x, int) for x in value)):
            raise PackError(f"a placeholder {value!r} is not [int, int]")
        return value

    def fill(node):
        if isinstance(node, dict):
            if set(node) == {_STATE}:
                size, row = pair(node, _STATE)
                if size not in states or not 0 <= row < len(states[size]):
                    raise PackError(f"a state placeholder {node[_STATE]} points nowhere")
                return _b64(states[size][row].tobytes())
            if set(node) == {_SERIES}:
                start, n = pair(node, _SERIES)
                if series is None or start < 0 or n < 0 or start + n > series.size:
                    raise PackError(f"a series placeholder {node[_SERIES]} points nowhere")
                return _b64(series[start:start + n].tobytes())
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(x) for x in node]
        return node

    return fill(head["doc"])
