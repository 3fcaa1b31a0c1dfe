"""Numbers and effects as a reader sees them: every value the page, the summary and the terminal show is spelled
here (the page's HTML is its templates', ``harness/report/templates/``)."""
from __future__ import annotations

import math
from typing import Any

from harness.spec import NOT_TESTABLE, ON_THE_LINE
from harness.results.model import Effect

# Below this a p-value is shown as a bound: every alpha of the design is far above it, and the far tail of
# a t (or normal) approximation at a few dozen seeds is not accurate to such digits.
P_FLOOR = 1e-6

# Badge classes per label (harness.spec.LABELS, templates/macros.html); their colours are the figures'
# (figures.VERDICT_COLORS, templates/style.css).
BADGE_CLASSES = {"SUPPORTED": "ok", "REFUTED": "bad", ON_THE_LINE: "line", NOT_TESTABLE: "untestable",
                 "INCONCLUSIVE": "warn"}


# ------------------------------------------------------------------ numbers


def fmt_num(x: Any, digits: int = 4) -> str:
    """Numbers for people: NaN / inf spelled out, None as a dash, never a crash."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float) or hasattr(x, "item"):
        try:
            v = float(x)
        except (TypeError, ValueError):
            return str(x)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == 0:
            return "0"
        return f"{v:.{digits}g}"
    return str(x)


def fmt_p(p: float | None) -> str:
    """p-values like 3.2e-05, 0.041 or 0.5; below 1e-6 "< 1e-6"."""
    if p is None or isinstance(p, bool) or not isinstance(p, (int, float)):
        return fmt_num(p)
    v = float(p)
    if not math.isfinite(v) or v == 0:
        return fmt_num(v)
    if v < P_FLOOR:
        return "< 1e-6"
    if abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.3g}"


def fmt_seconds(s: float | None) -> str:
    if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s):
        return "—"
    if s < 1:
        return "<1 s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------ effects


def zone_on_abs(effect: Effect) -> bool:
    """The threshold and zone apply to |effect|: the rules decided by TOST (two one-sided tests, equivalence
    and mean in a band) test a signed effect's distance from 0."""
    return effect.absolute and effect.zone is not None


def interval_text(value: float | None, low: float | None, high: float | None, digits: int = 3) -> str:
    text = fmt_num(value, digits)
    if low is not None or high is not None:
        text += f" [{fmt_num(low, digits)}, {fmt_num(high, digits)}]"
    return text


def zone_text(effect: Effect, digits: int = 3) -> str:
    if effect.zone is None:
        return "no zone"
    low, high = effect.zone
    return f"zone{' on |effect|' if zone_on_abs(effect) else ''} [{fmt_num(low, digits)}, {fmt_num(high, digits)}]"


def effect_text(effect: Effect, digits: int = 3) -> str:
    """``name = value [low, high] vs threshold t (zone [a, b])``; ``±t`` where the threshold is on |effect|."""
    text = (f"{effect.name} = " if effect.name else "") + interval_text(effect.value, effect.ci_low,
                                                                         effect.ci_high, digits)
    if effect.threshold is not None:
        text += f" vs {'±' if zone_on_abs(effect) else ''}{fmt_num(effect.threshold, digits)}"
    if effect.zone is not None:
        text += f" ({zone_text(effect, digits)})"
    return text
