"""The lock files: every tox cell has one, each is current with pyproject.toml and tox.ini, the README and
tox install them; a lock whose inputs changed, or whose pins no longer satisfy the ranges, is refused,
naming both files.  The refusals on constructed projects (a copy of the two files, edited)."""
from __future__ import annotations

import shutil

import pytest

from harness import lockfiles
from harness.maintainer import cold, lock


def test_every_cell_has_a_current_lock():
    cells = lock.all_cells()
    assert lockfiles.DEFAULT_CELL in cells and len(cells) == len(lockfiles.tox_environments()) + 1
    for env in cells:
        found = lockfiles.check(env)
        assert found.pins, env
        for name in ("tensorflow-cpu" if env.endswith("-cpu") else "tensorflow", "numpy", "scikit-learn", "pytest"):
            assert name in found.pins, (env, name)


def test_the_readme_and_tox_install_the_locks():
    first, second = cold.quick_start()
    default = f"-r harness/locks/{lockfiles.DEFAULT_CELL}.txt"
    assert default in first and default in second
    tox = (lockfiles.ROOT / "tox.ini").read_text()
    assert "-r{toxinidir}/harness/locks/{envname}.txt" in tox


def test_a_decided_cell_is_locked_to_its_recorded_versions():
    recorded = lock.recorded_versions("py311-tf212-k2-cpu")
    assert recorded["tensorflow-cpu"] == "2.12.1" and recorded["numpy"].startswith("1.")
    pins = lockfiles.check("py311-tf212-k2-cpu").pins
    assert all(pins[p] == v for p, v in recorded.items())
    assert lock.recorded_versions("py311-tf216-k3-cpu") == {}  # not decided: nothing recorded to hold to


@pytest.mark.parametrize("condition, env, expected", [
    ("cpu-tf212", "py311-tf212-k2-cpu", True),
    ("cpu-tf212", "py311-tf212-k2-gpu", False),
    ("tf212,tf213", "py311-tf213-k2-cpu", True),
    ("tf212,tf213", "py311-tf214-k2-cpu", False),
    ("k2-tf{216,217}", "py311-tf217-k2-cpu", True),
    ("k2-tf{216,217}", "py311-tf217-k3-cpu", False),
])
def test_tox_factor_conditions(condition, env, expected):
    assert lockfiles._matches(condition, set(env.split("-"))) is expected


@pytest.fixture
def project(tmp_path):
    """A copy of pyproject.toml, tox.ini and the default lock, to edit."""
    for name in ("pyproject.toml", "tox.ini"):
        shutil.copy(lockfiles.ROOT / name, tmp_path / name)
    (tmp_path / "locks").mkdir()
    shutil.copy(lockfiles.path_for(lockfiles.DEFAULT_CELL), tmp_path / "locks")
    lockfiles.check(lockfiles.DEFAULT_CELL, tmp_path / "locks", tmp_path)  # the copy is current
    return tmp_path


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_new_dependency_makes_the_lock_out_of_date(project):
    _edit(project / "pyproject.toml", '"filelock",', '"filelock",\n    "tomli-w",')
    with pytest.raises(lockfiles.LockError) as err:
        lockfiles.check(lockfiles.DEFAULT_CELL, project / "locks", project)
    msg = str(err.value)
    assert "pyproject.toml" in msg and "tox.ini" in msg and "tomli-w" in msg and "python -m harness lock" in msg


def test_a_range_the_pin_no_longer_meets_is_named(project):
    _edit(project / "pyproject.toml", '"scipy>=1.11"', '"scipy>=99"')
    with pytest.raises(lockfiles.LockError, match=r"scipy==[\d.]+ does not satisfy pyproject.toml's 'scipy>=99'"):
        lockfiles.check(lockfiles.DEFAULT_CELL, project / "locks", project)


def test_a_changed_cell_requirement_makes_the_lock_out_of_date(project):
    _edit(project / "tox.ini", "k3new-tf221: keras==3.15.1", "k3new-tf221: keras==3.15.2")
    with pytest.raises(lockfiles.LockError, match="keras==3.15.1 does not satisfy tox.ini's 'keras==3.15.2'"):
        lockfiles.check(lockfiles.DEFAULT_CELL, project / "locks", project)


def test_an_edited_input_digest_is_refused(project):
    path = project / "locks" / f"{lockfiles.DEFAULT_CELL}.txt"
    text = path.read_text()
    digest = lockfiles.INPUTS.search(text).group(1)
    path.write_text(text.replace(digest, "0" * 64))
    with pytest.raises(lockfiles.LockError, match="requirements changed since the lock was made"):
        lockfiles.check(lockfiles.DEFAULT_CELL, project / "locks", project)


def test_a_loose_pin_is_not_a_lock(project):
    path = project / "locks" / f"{lockfiles.DEFAULT_CELL}.txt"
    path.write_text(path.read_text().replace("\nnumpy==", "\nnumpy>=", 1))
    with pytest.raises(lockfiles.LockError, match="not an exact pin"):
        lockfiles.check(lockfiles.DEFAULT_CELL, project / "locks", project)


def test_a_missing_lock_names_the_command(tmp_path):
    with pytest.raises(lockfiles.LockError, match="python -m harness lock"):
        lockfiles.check(lockfiles.DEFAULT_CELL, tmp_path)
