"""The code digest: keyed by logical module names, blind to where a module lives
(the paths of the suite's own imports), and changed by any other changed line."""
from __future__ import annotations

import shutil

import pytest

from harness.training import provenance
from harness.storage.store import RunStore


def test_every_engine_digests_its_logical_modules():
    keras, batched = provenance.module_digests("keras"), provenance.module_digests("batched")
    assert "keras engine" in keras and "keras engine" not in batched
    assert "batched engine" in batched and "batched engine" not in keras
    for shared in ("data", "models", "experiments", "compatibility layer", "records", "batch orders",
                   "engine common"):
        assert keras[shared] == batched[shared]
    probes = set(provenance.RECORD_MODULES["batched"]) - set(batched)
    assert probes == {"inside probes", "inside quantities"}  # what a stored record depends on beside the engine
    assert set(provenance.MODULES) == set(keras) | set(batched) | probes
    assert provenance.file_digests is provenance.module_digests
    assert provenance.code_digest("keras") != provenance.code_digest("batched")


def test_a_stored_record_depends_on_the_probes_the_certificate_does_not():
    assert provenance.record_digest("keras") == provenance.code_digest("keras")  # no probes on the Keras engine
    assert provenance.record_digest("batched") != provenance.code_digest("batched")
    assert provenance.record_digest("batched+replayed") == provenance.record_digest("batched")
    assert RunStore("x", "env").code_digest("batched") == provenance.record_digest("batched")


def test_store_labels_digest_their_base_engine():
    assert provenance.code_digest("keras-reference") == provenance.code_digest("keras")
    assert provenance.code_digest("batched+replayed") == provenance.code_digest("batched")
    with pytest.raises(ValueError, match="unknown engine 'torch'"):
        provenance.code_digest("torch")


def test_the_digest_depends_on_the_version_and_the_scheme_names_it():
    d = {"data": "a" * 64}
    assert provenance.digest_modules(d, "1") != provenance.digest_modules(d, "2")
    assert provenance.digest_modules(d, "1") != provenance.digest_modules({"models": "a" * 64}, "1")
    assert provenance.DIGEST_SCHEME == "logical-modules/1"


def test_the_import_path_of_the_suites_own_modules_does_not_count():
    moved = [("from .. import compat\n", "from ..core import compat\n"),
             ("from . import common\n", "from harness.engines import common\n"),
             ("    from .. import orders as orderlib\n", "    from ..batching import orders as orderlib\n"),
             ("from harness.records import RunRecord\n", "from harness.io.records import RunRecord\n")]
    for a, b in moved:
        assert provenance.normalized_source(a) == provenance.normalized_source(b), (a, b)
    # what is imported, and anything that is not an import of the suite, still counts
    assert provenance.normalized_source("from .. import compat\n") != provenance.normalized_source(
        "from .. import data\n")
    assert provenance.normalized_source("from numpy import mean\n") != provenance.normalized_source(
        "from scipy import mean\n")
    assert provenance.normalized_source("x = 1\n") != provenance.normalized_source("x = 2\n")


@pytest.fixture
def copied(tmp_path, monkeypatch):
    """The keras engine's modules copied to tmp_path, the digest reading them there."""
    paths = {name: provenance.module_path(name) for name in provenance.ENGINE_MODULES["keras"]}
    copies = {}
    for name, path in paths.items():
        copies[name] = tmp_path / name.replace(" ", "_") / path.name
        copies[name].parent.mkdir()
        shutil.copy(path, copies[name])
    monkeypatch.setattr(provenance, "module_path", lambda name: copies[name])
    return copies


def test_a_moved_module_keeps_the_digest(copied):
    before = provenance.module_digests("keras")
    engine = copied["keras engine"]
    text = engine.read_text()
    assert "from .. import compat, data, environment, models, orders\n" in text
    # keras_engine.py moved one folder down: its imports of the suite now go up one more level
    moved = copied["keras engine"].parent / "sub" / engine.name
    moved.parent.mkdir()
    moved.write_text(text.replace("from .. import compat", "from ... import compat")
                     .replace("from ..records import", "from ...records import"))
    copied["keras engine"] = moved
    assert provenance.module_digests("keras") == before
    assert provenance.digest_modules(provenance.module_digests("keras")) == provenance.code_digest("keras")


def test_a_changed_line_changes_the_digest_and_is_named(copied):
    before = provenance.module_digests("keras")
    copied["models"].write_text(copied["models"].read_text() + "\n# one changed line\n")
    after = provenance.module_digests("keras")
    assert [m for m in after if after[m] != before[m]] == ["models"]
    assert provenance.digest_modules(after) != provenance.digest_modules(before)
