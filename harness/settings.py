"""What a run is asked to do: the profiles, the settings they bundle, resolved from the options once.

A profile bundles settings (as Hypothesis' profiles do); explicit options override it.  The pytest plugin
resolves its options into one :class:`Settings` at start (:func:`from_options`) and keeps it in
``config.stash``; :func:`harness.runner.check_claims` takes one directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import options, paths
from .bad_input import BadInput

PROFILES: dict[str, dict] = {
    # 30 seeds (the lesson's n_repeats); undecided claims looked at again up to 1000 seeds.
    "default": {},
    # One look at 30 seeds: no sequential looks (a smoke run; claims may stay INCONCLUSIVE).
    "quick": {"max_seeds": 30},
    # The first look at 100 seeds, then 300 and 1000.
    "thorough": {"seeds": 100},
}


@dataclass(frozen=True)
class Settings:
    seeds: int = 30
    max_seeds: int | None = None  # None: 1000 with the batched engine, ``seeds`` with keras
    engine: str = "batched"
    batch_order: str = "lesson"  # harness.training.orders: the lesson's fresh order per epoch, or seeded Keras 3's replayed one
    store_dir: str = paths.STORE_DIR
    certificate_dir: str = paths.CERTIFICATE_DIR
    fresh: bool = False
    profile: str = "default"
    # --claims-familywise: the claims also labelled under Holm's correction across the run at this level
    familywise: float | None = None
    report_dir: str = paths.REPORT_DIR
    history_dir: str | None = None  # None: <report_dir>/history
    baseline: str | None = None  # --claims-baseline: the file; the plugin keeps what it read beside these settings

    @classmethod
    def from_profile(cls, name: str = "default", **overrides) -> "Settings":
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        values = {**PROFILES[name], **{k: v for k, v in overrides.items() if v is not None}}
        return cls(profile=name, **values)

    def design(self):
        from harness.statistics import sequential  # local: numpy and SciPy only where looks are planned

        last = self.max_seeds or (max(self.seeds, sequential.LOOKS[-1]) if self.engine == "batched" else self.seeds)
        return sequential.design(self.seeds, max(last, self.seeds))

    @property
    def history(self) -> Path:
        """Where the run's summary goes: ``<history_dir>/<fingerprint>.json``."""
        return Path(self.history_dir or Path(self.report_dir) / "history")


def from_options(values: Mapping[str, object]) -> Settings:
    """The profile's settings with the explicit options laid over them; ``values``: each of
    :data:`harness.options.PYTEST` by flag (None where not given).  :class:`BadInput` for a combination no
    single option's parser can refuse."""
    flag = {o.flag: values.get(o.flag) for o in options.PYTEST}
    settings = Settings.from_profile(
        flag["profile"] or "default", seeds=flag["seeds"], max_seeds=flag["max-seeds"], engine=flag["engine"],
        batch_order=flag["batch-order"], store_dir=flag["store-dir"], certificate_dir=flag["certificate-dir"],
        fresh=flag["fresh"] or None, familywise=flag["familywise"], report_dir=flag["report-dir"],
        history_dir=flag["history-dir"], baseline=flag["baseline"])
    if settings.max_seeds is not None and settings.max_seeds < settings.seeds:
        raise BadInput(f"--claims-max-seeds {settings.max_seeds} is below --claims-seeds {settings.seeds}: the last "
                       "look cannot come before the first; give --claims-max-seeds >= --claims-seeds (equal turns "
                       "the later looks off)")
    return settings


def decided_in(claim, settings: Settings) -> bool:
    """Whether this run decides ``claim``: a claim of the thorough profile (a sweep) only there."""
    return claim.profile == "default" or settings.profile == claim.profile


def claim_design(claim, design):
    """The run's design, its last look capped at the claim's ``max_seeds`` (a sweep's many experiments)."""
    from harness.statistics import sequential

    if not claim.max_seeds or design.looks[-1] <= claim.max_seeds:
        return design
    return sequential.design(design.looks[0], max(design.looks[0], claim.max_seeds))
