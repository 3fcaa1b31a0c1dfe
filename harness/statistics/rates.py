"""Rules on a rate of seeds: exact binomial tests against the zone's edges, Clopper-Pearson intervals.

A share of seeds won (the paired sign tests, the dose trend) is decided as a rate too: :class:`ShareOfSeedsRule`
is what those rules share.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from harness.spec import Decision, Evidence, SpecError, Verdict, check_zone
from harness.statistics import stats
from harness.statistics.decisions import DEFAULT_ALPHA, inside, untestable, zone_factor, zone_verdict
from harness.training.records import RunRecord

# The sign-test rules' zone on the share of seeds won: 40-60% is a coin flip.
SHARE_ZONE = (0.4, 0.6)


def rate_reachable(n: int, zone: tuple[float, float], claimed: str, alpha: float) -> tuple[bool, bool]:
    """(can SUPPORT, can REFUTE) at n seeds: the most extreme count rejects at alpha."""
    up = zone[1] ** n < alpha  # n hits of n, against the upper edge
    down = (1 - zone[0]) ** n < alpha  # 0 hits of n, against the lower edge
    return (up, down) if claimed == "greater" else (down, up)


@functools.lru_cache(maxsize=65536)
def binomial_p(k: int, n: int, p0: float, alternative: str) -> float:
    # Cached: simulations and the exact design computation ask for the same counts many times.
    return stats.binomial_rate(k, n, p0, alternative).p_value


@functools.lru_cache(maxsize=65536)
def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    return stats.clopper_pearson(k, n, confidence)


def _rate_seeds_needed(rate: float, n: int, zone: tuple[float, float], claimed: str, alpha: float
                       ) -> tuple[int | None, str]:
    """(seeds, what for) a later look needs, for an undecided rate whose interval is not inside the zone."""
    opposite = {"greater": "less", "less": "greater"}[claimed]
    edge_pro, edge_con = (zone[1], zone[0]) if claimed == "greater" else (zone[0], zone[1])
    can_pro, can_con = rate_reachable(n, zone, claimed, alpha)
    beyond_pro = rate > edge_pro if claimed == "greater" else rate < edge_pro
    beyond_con = rate < edge_con if claimed == "greater" else rate > edge_con
    if beyond_pro or beyond_con:
        side = claimed if beyond_pro else opposite
        edge = edge_pro if beyond_pro else edge_con
        r = min(max(rate, 1e-3), 1 - 1e-3)
        return (stats.binomial_seeds_needed(r, edge, side, alpha),
                f"to show rate {'>' if side == 'greater' else '<'} {edge} (the zone's edge: "
                f"{'SUPPORTED' if beyond_pro else 'REFUTED'}) if the true rate is {rate:.3g}")
    if not (can_pro or can_con):
        return None, f"{n} seeds cannot reach alpha {alpha:.3g} in either direction"
    return None, "the rate lies inside the zone: more seeds narrow its interval toward 'on the line'"


def rate_decision(k: int, n: int, zone: tuple[float, float], threshold: float, claimed: str, alpha: float,
                  test: str, name: str, detail: str, explain: bool = True, **kw) -> Decision:
    """The zone verdict on ``k`` hits in ``n``: exact binomial tests against the zone's
    edges (SUPPORTED: beyond the edge on the claim's side), Clopper-Pearson interval."""
    opposite = {"greater": "less", "less": "greater"}[claimed]
    edge_pro, edge_con = (zone[1], zone[0]) if claimed == "greater" else (zone[0], zone[1])
    pro = binomial_p(k, n, edge_pro, claimed)
    con = binomial_p(k, n, edge_con, opposite)
    low, high = clopper_pearson(k, n, 1 - 2 * alpha)
    verdict, p = zone_verdict(pro, con, alpha)
    at_line = verdict is Verdict.INCONCLUSIVE and inside(zone, low, high)
    need = need_for = None
    rate = k / n
    if explain and verdict is Verdict.INCONCLUSIVE and not at_line:
        need, need_for = _rate_seeds_needed(rate, n, zone, claimed, alpha)
    return Decision(
        verdict=verdict, test=test, p_value=p, p_supported=float(pro), p_refuted=float(con), alpha=alpha, effect_name=name, effect=rate, ci_low=low,
        ci_high=high, threshold=threshold, zone=zone, at_threshold=at_line, statistic=float(k),
        detail=detail + f"; p(beyond {edge_pro})={pro:.3g}, p(beyond {edge_con}, the other way)={con:.3g} at "
                        f"alpha {alpha:.3g} each",
        seeds_needed=need, seeds_needed_for=need_for,
        zone_factor=zone_factor(verdict, claimed, threshold, zone, low, high), **kw)


class ShareOfSeedsRule:
    """What the rules on a share of seeds won share: the threshold is a coin flip, and the count decides
    as a rate claimed above the zone."""

    @property
    def threshold(self) -> float:
        return 0.5

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return rate_reachable(n, self.zone, "greater", alpha)


@dataclass(frozen=True)
class RateRule:
    """The claim: the per-seed ``outcome`` happens at a rate above the zone
    (claimed="greater") or below it ("less").  Exact binomial tests against the
    zone's edges; interval Clopper-Pearson.  ``p0`` is the lesson's threshold,
    ``zone`` the rates the claim treats as on its line."""

    exp: str
    outcome: Callable[[RunRecord], bool]
    p0: float
    claimed: str
    what: str
    zone: tuple[float, float]

    @property
    def summary(self) -> str:
        return (f"rate of seeds that {self.what} {'>' if self.claimed == 'greater' else '<'} {self.p0}, beyond the "
                f"zone {list(self.zone)} (exact binomial)")

    @property
    def threshold(self) -> float:
        return self.p0

    def __post_init__(self):
        if self.claimed not in ("greater", "less"):
            raise SpecError(f"claimed must be 'greater' or 'less', got {self.claimed!r}")
        if not 0 < self.p0 < 1:
            raise SpecError(f"rate rule {self.what!r}: need 0 < p0 < 1, got {self.p0}")
        # The zone is checked where it is used, and by the Claim that holds the rule (naming the claim).

    def reachable(self, n: int, alpha: float) -> tuple[bool, bool]:
        return rate_reachable(n, self.zone, self.claimed, alpha)

    def __call__(self, ev: Evidence, alpha: float = DEFAULT_ALPHA, explain: bool = True) -> Decision:
        hits = [bool(self.outcome(r)) for r in ev.runs[self.exp]]
        return self.from_counts(sum(hits), len(hits), alpha, explain, hits)

    def from_counts(self, k: int, n: int, alpha: float = DEFAULT_ALPHA, explain: bool = True,
                    hits: list[bool] | None = None) -> Decision:
        """The decision on ``k`` hits in ``n`` seeds (all a rate rule looks at)."""
        zone = check_zone(self.zone, self.p0, f"rate rule {self.what!r}")
        if not (0 < zone[0] and zone[1] < 1):
            raise SpecError(f"rate rule {self.what!r}: zone {list(zone)} must lie inside (0, 1)")
        name = f"rate of seeds that {self.what}"
        if n == 0:
            return untestable("exact binomial", alpha, name, "no seeds", threshold=self.p0, zone=self.zone)
        sign = ">" if self.claimed == "greater" else "<"
        return rate_decision(k, n, self.zone, self.p0, self.claimed, alpha, "exact binomial", name,
                             f"{k}/{n} seeds {self.what}; claimed rate {sign} {self.p0}, beyond the zone "
                             f"{list(self.zone)}", explain,
                             outcomes={self.exp: hits} if hits is not None else None)
