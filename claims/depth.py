"""Section 2.2.3: the lesson's depth statements as curves over the depth sweep (harness.training.sweeps).

Decided in the thorough profile only (``--claims-profile=thorough``): 33 sweep points at 100 seeds do not fit the
default run.  Thresholds fixed from the lesson's words on 2026-12-02, before any sweep point beyond the lesson's
own depths was trained.
"""
from __future__ import annotations

from claims import common as c
from harness.spec import Claim, Expectation, Reading, Verdict
from harness.statistics.dose import CrossingDoseRule, SeedTrendRule
from harness.training import sweeps

DECLARED = "2026-12-02"
THOROUGH = dict(profile="thorough", max_seeds=300)


def _relu(depths) -> tuple[tuple[int, str], ...]:
    return tuple((d, sweeps.DEPTH["relu"][d].name) for d in depths)


def _tanh(depths) -> tuple[tuple[int, str], ...]:
    return tuple((d, sweeps.DEPTH["tanh"][d].name) for d in depths)


SLOWER = _relu(range(1, 21))  # "to a point at about 20 layers"
ALL_RELU = _relu(sweeps.RELU_DEPTHS)
CROSSING = _relu((10, 12, 15, 17, 20, 22, 25))
TANH = _tanh(sweeps.TANH_DEPTHS)
REACH = c.epoch_reaching(c.LEARNED_ACCURACY)

CLAIMS = [
    Claim(
        id="deeper_relu_learns_slower", section="2.2.3.3",
        quote="increasing the number of layers results in slower learning to a point at about 20 layers where the "
              "model is no longer capable of learning the problem",
        interpretation="'Slower learning' with 'increasing the number of layers', up to the point the sentence "
                       "names: seed by seed over the ReLU + He models with 1 to 20 hidden layers, the first epoch "
                       "at which the test accuracy reaches 0.75 (learned; never = infinitely late) rises with the "
                       "depth (the sign of its Mann-Kendall trend); true for more than 60% of the seeds with a "
                       "trend.",
        rule="Exact sign test of the share of seeds whose epoch-to-0.75 rises with the depth, against the zone "
             "[0.4, 0.6], at the design's alpha (looks at 100 and 300 seeds).",
        experiments=tuple(e for _, e in ALL_RELU), metric="first epoch with test accuracy >= 0.75", metric_fn=REACH,
        decide=SeedTrendRule(SLOWER, REACH, "increasing", "epoch reaching test accuracy 0.75"),
        readings=(
            Reading("loss-convergence", "'Learning' read on the training loss: the epoch by which 90% of its "
                    "reduction is done (deep_relu_converges_about_200's convergence epoch).",
                    SeedTrendRule(SLOWER, c.converge_epoch, "increasing", "convergence epoch"), ("loss",),
                    DECLARED),
            Reading("to-15", "Only where the lesson shows the model still learning: 1 to 15 layers.",
                    SeedTrendRule(_relu(range(1, 16)), REACH, "increasing", "epoch reaching test accuracy 0.75"),
                    ("val_accuracy",), DECLARED),
            Reading("to-25", "Over the whole sweep, 1 to 25 layers: past the point too, where the runs that never "
                    "reach 0.75 tie.", SeedTrendRule(ALL_RELU, REACH, "increasing", "epoch reaching test accuracy "
                                                     "0.75"), ("val_accuracy",), DECLARED),
        ),
        **THOROUGH,
    ),
    Claim(
        id="relu_no_longer_capable_at_about_20", section="2.2.3.3",
        quote="to a point at about 20 layers where the model is no longer capable of learning the problem",
        interpretation="'No longer capable' is relu20_no_longer_learns' line: learns (final test accuracy >= 0.75) "
                       "in fewer than 10% of the seeds, its zone 5-15%. 'At about 20 layers' = within a quarter, "
                       "15-25 layers; zone on |crossing - 20| from 2.5 to 7.5 layers. Under the sentence's premise "
                       "that learning gets harder with depth (deeper_relu_learns_slower), the crossing lies past 17 "
                       "when 17 layers still learn above 15%, and by 22 when 22 layers learn below 5%.",
        rule="SUPPORTED: the learned rate at 17 layers above 0.15 and at 22 below 0.05 (exact binomial, each at the "
             "design's alpha: intersection-union); REFUTED: at 12 layers below 0.05 (the point comes before 12.5; "
             "no depth past 27.5 is trained), Bonferroni over the two ways; looks at 100 and 300 seeds.",
        experiments=tuple(e for _, e in CROSSING), metric="final test accuracy", metric_fn=c.heldout_accuracy,
        metric_threshold=c.LEARNED_ACCURACY,
        decide=CrossingDoseRule(CROSSING, c.learned, 0.1, c.rate_zone(0.1), 20, "learn"),
        expect=Expectation(Verdict.INCONCLUSIVE, {c.TF221_CPU: {"effect": (0.0, 5.0), "seeds": (300, 300)}},
                           "the learned rate falls below 10% only at about 22 layers (2026-12-02, 300 seeds: 34/300 "
                           "at 20, 26/300 at 22, 13/300 at 25): the crossing lies past 20, and the sweep, which ends "
                           "at 25, cannot show it past 27.5"),
        readings=(Reading("line-0.05", "'No longer capable' on relu15_learns_some_of_the_time's line: learns in "
                          "fewer than 5% of the seeds (zone 2.5-7.5%).",
                          CrossingDoseRule(CROSSING, c.learned, 0.05, c.rate_zone(0.05), 20, "learn"),
                          ("test_accuracy",), DECLARED),),
        **THOROUGH,
    ),
    Claim(
        id="deeper_tanh_learns_less", section="2.2.3.2",
        quote="Deep models using the hyperbolic tangent activation function do not train quickly",
        interpretation="Seed by seed over the tanh models with 1 to 8 hidden layers (the author's fresh "
                       "RandomUniform(0, 1) draw per layer): the final test accuracy falls with the depth (the sign "
                       "of its Mann-Kendall trend); true for more than 60% of the seeds with a trend.",
        rule="Exact sign test of the share of seeds whose final test accuracy falls with the depth, against the "
             "zone [0.4, 0.6], at the design's alpha (looks at 100 and 300 seeds).",
        experiments=tuple(e for _, e in TANH), metric="final test accuracy", metric_fn=c.heldout_accuracy,
        metric_threshold=c.LEARNED_ACCURACY,
        decide=SeedTrendRule(TANH, c.heldout_accuracy, "decreasing", "final test accuracy"),
        readings=(Reading("not-quickly", "'Do not train quickly': the epoch reaching test accuracy 0.75 rises with "
                          "the depth.", SeedTrendRule(TANH, REACH, "increasing", "epoch reaching test accuracy 0.75"),
                          ("val_accuracy",), DECLARED),),
        **THOROUGH,
    ),
]
