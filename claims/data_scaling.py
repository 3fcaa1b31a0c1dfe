"""Section 2.1: Stabilize Learning with Data Scaling."""
from __future__ import annotations

import math

import numpy as np

from claims import common as c
from harness.spec import Amendment, Claim, Expectation, Reading, Verdict
from harness.statistics.paired import PairedBestOfGroupsRule, PairedEquivalenceRule, PairedShiftRule
from harness.statistics.rates import RateRule
from harness.statistics.spreads import PairedTighterRule


def rmse_original_units(r) -> float:
    return c.worst_if_nonfinite(r.metrics["test_rmse_original_units"])


def _target_sd() -> float:
    from harness.training import data
    return float(np.std(data.load("regression").train_y))


def _good_rmse(r) -> bool:
    # MSE < 0.1 in standardized units <=> RMSE < sqrt(0.1) * sd(train target) in original units.
    return rmse_original_units(r) < math.sqrt(c.GOOD_MSE_STANDARDIZED) * _target_sd()


def _fits_well(r) -> bool:
    tr, te = r.metrics["train_loss"], r.metrics["test_loss"]
    return (math.isfinite(tr) and math.isfinite(te)
            and tr < c.GOOD_MSE_STANDARDIZED and te - tr < c.GOOD_MSE_STANDARDIZED)


def _fits_by_ratio(r) -> bool:
    tr, te = r.metrics["train_loss"], r.metrics["test_loss"]
    return (math.isfinite(tr) and math.isfinite(te) and 0 < tr < c.GOOD_MSE_STANDARDIZED
            and te / tr < 10 ** c.LOG10_MARGIN)


def _nonfinite_by(epoch: int):
    return lambda r: (r.metrics["first_nonfinite_epoch"] or math.inf) <= epoch


INPUT_GROUPS = {"unscaled": "reg_target_standard", "normalized": "reg_input_minmax",
                "standardized": "reg_input_standard"}


CLAIMS = [
    Claim(
        id="unscaled_target_nan", section="2.1.2.1, 2.3.2.1",
        quote="In this case, the model cannot learn the problem, resulting in predictions of NaN values.",
        interpretation="The lesson reports NaN as what its code does, not as a rare event: we read it as "
                       "'NaN is the typical outcome', i.e. the final model predicts NaN/inf in more than half "
                       "of the seeds.",
        rule=c.rate_rule_text("the NaN rate", 0.5),
        experiments=("reg_unscaled",), metric="final predictions non-finite (1/0)", metric_fn=c.nonfinite_final,
        decide=RateRule("reg_unscaled", lambda r: c.nonfinite_final(r) == 1.0, 0.5, "greater", "predict NaN/inf",
                        c.rate_zone(0.5)),
        uncontested="'Predictions of NaN values' is a measurement, not a vague word, and the line at half the seeds "
                    "reads the lesson's report of what its code does as its typical outcome.",
    ),
    Claim(
        id="unscaled_target_nan_immediately", section="2.1.2.1",
        quote="the model almost immediately results in a NaN mean squared error.",
        interpretation="'Almost immediately' in a 100-epoch run whose plot 'does not show anything': the "
                       "training loss is first NaN/inf within the first 5 epochs (5% of training), in more "
                       "than half of the seeds.",
        rule=c.rate_rule_text("the rate of first non-finite epoch <= 5", 0.5),
        experiments=("reg_unscaled",), metric="first non-finite epoch",
        metric_fn=lambda r: float(r.metrics["first_nonfinite_epoch"] or math.inf), metric_threshold=5,
        decide=RateRule("reg_unscaled", _nonfinite_by(5), 0.5, "greater", "go NaN within 5 epochs", c.rate_zone(0.5)),
        readings=(
            Reading("first-epoch", "'Almost immediately' read strictly: the training loss is NaN/inf in the first "
                    "epoch.", RateRule("reg_unscaled", _nonfinite_by(1), 0.5, "greater", "go NaN in epoch 1",
                                       c.rate_zone(0.5)), ("first_nonfinite_epoch",), c.READINGS_DECLARED),
            Reading("ten-epochs", "'Almost immediately' read loosely: within the first 10 epochs (10% of the run).",
                    RateRule("reg_unscaled", _nonfinite_by(10), 0.5, "greater", "go NaN within 10 epochs",
                             c.rate_zone(0.5)), ("first_nonfinite_epoch",), c.READINGS_DECLARED),
        ),
    ),
    Claim(
        id="standardized_target_converges", section="2.1.2.2",
        quote="the model rapidly learns to map inputs to outputs for the regression problem effectively and "
              "achieves good performance on both datasets",
        interpretation="'Good performance' in standardized target units: final test MSE < 0.1 (over 90% of "
                       "the target variance explained; predicting the mean scores 1.0), in more than half of "
                       "the seeds.",
        rule=c.rate_rule_text("the rate of test MSE < 0.1", 0.5),
        experiments=("reg_target_standard",), metric="test MSE (standardized units)", metric_fn=c.heldout_loss,
        metric_threshold=c.GOOD_MSE_STANDARDIZED,
        decide=RateRule("reg_target_standard", lambda r: c.heldout_loss(r) < c.GOOD_MSE_STANDARDIZED, 0.5,
                        "greater", "reach test MSE < 0.1", c.rate_zone(0.5)),
        readings=(
            Reading("both-datasets", "'Good performance on both datasets': the train MSE below 0.1 as well as the "
                    "test MSE.", RateRule("reg_target_standard", lambda r: max(c.heldout_loss(r), c.train_loss(r))
                                          < c.GOOD_MSE_STANDARDIZED, 0.5, "greater",
                                          "reach train and test MSE < 0.1", c.rate_zone(0.5)),
                    ("train_loss", "test_loss"), c.READINGS_DECLARED),
            Reading("rapidly", "'Rapidly learns' too: the training loss (History) already below 0.1 at epoch 10, a "
                    "tenth of the run, and the final test MSE below 0.1.",
                    RateRule("reg_target_standard", lambda r: c.heldout_loss(r) < c.GOOD_MSE_STANDARDIZED
                             and r.history["loss"][9] < c.GOOD_MSE_STANDARDIZED, 0.5, "greater",
                             "reach MSE < 0.1 by epoch 10 and at the end", c.rate_zone(0.5)),
                    ("loss", "test_loss"), c.READINGS_DECLARED),
        ),
    ),
    Claim(
        id="standardized_target_no_over_or_underfit", section="2.1.2.2",
        quote="neither overfitting nor underfitting the training dataset.",
        interpretation="Not underfitting: train MSE < 0.1; not overfitting: test MSE exceeds train MSE by "
                       "less than 0.1 (10% of the target variance), in more than half of the seeds.",
        rule=c.rate_rule_text("the rate of (train MSE < 0.1 and test - train < 0.1)", 0.5),
        experiments=("reg_target_standard",), metric="test MSE - train MSE",
        metric_fn=lambda r: c.heldout_loss(r) - c.train_loss(r) if math.isfinite(c.train_loss(r)) else math.inf,
        metric_threshold=c.GOOD_MSE_STANDARDIZED,
        decide=RateRule("reg_target_standard", _fits_well, 0.5, "greater", "fit without over/underfitting",
                        c.rate_zone(0.5)),
        readings=(Reading(
            "ratio", "Not overfitting read as a ratio, not a gap: test MSE at most 10^0.1 = 1.26 x the train MSE (the "
            "suite's 'little difference', 0.1 decades), with train MSE < 0.1 (not underfitting).",
            RateRule("reg_target_standard", _fits_by_ratio, 0.5, "greater", "fit with test/train MSE < 1.26",
                     c.rate_zone(0.5)), ("train_loss", "test_loss"), c.READINGS_DECLARED),),
    ),
    Claim(
        id="standardized_target_rmse_original_units", section="2.1.2.2 (exercise)",
        quote="estimate the performance of the model by first inverting the transform on the test dataset "
              "target variable and on the model predictions and estimating model performance using the root "
              "mean squared error on the unscaled data. This is left as an exercise to the student.",
        interpretation="The exercise, done: test RMSE in the target's original units.  'Good performance' "
                       "carried over from standardized units: RMSE < sqrt(0.1) x sd(train target), in more "
                       "than half of the seeds.",
        rule=c.rate_rule_text("the rate of RMSE_orig < sqrt(0.1) sd(y_train)", 0.5),
        experiments=("reg_target_standard",), metric="test RMSE, original units", metric_fn=rmse_original_units,
        decide=RateRule("reg_target_standard", _good_rmse, 0.5, "greater", "reach the RMSE bound", c.rate_zone(0.5)),
        # RMSE_orig = sqrt(MSE_std) x sd(y_train): the same per-seed outcome as standardized_target_converges.
        counts="duplicate", sentence="standardized_target_converges",
        uncontested="By construction the same per-seed outcome as standardized_target_converges (RMSE_orig = "
                    "sqrt(MSE_std) x sd(y_train)): its readings are that claim's.",
    ),
    Claim(
        id="standardized_vs_normalized_target", section="2.1.2.2 (suggested experiment)",
        quote="It may be interesting to repeat this experiment and normalize the target variable instead and "
              "compare results.",
        interpretation="The lesson's heuristic ('Given the Gaussian distribution of the target variable, a "
                       "natural method for rescaling the variable would be to standardize it') predicts that "
                       "a standardized target does better than a normalized one; compared on test RMSE in "
                       "original units, the only scale both share.",
        rule="Exact sign test, paired by seed: standardized RMSE lower than normalized on more than 60% of the "
             "seeds (the zone 40-60% is a coin flip), one-sided both ways at the design's alpha.",
        experiments=("reg_target_standard", "reg_target_minmax"), counts="derived", metric="test RMSE, original units",
        metric_fn=rmse_original_units,
        decide=PairedShiftRule("reg_target_standard", "reg_target_minmax", rmse_original_units, False,
                               "test RMSE (original units)"),
        uncontested="'Compare results' names no threshold: the comparison is the suite's derived prediction, read "
                    "seed by seed on the one scale both targets share.",
        amendments=(c.paired_amendment(
            "One-sided Mann-Whitney U, standardized RMSE lower than normalized, both ways, alpha 0.01.",
            "Wilcoxon signed-rank, paired by seed, both ways at the design's alpha.",
            "SUPPORTED (Mann-Whitney p=1.5e-11; TF 2.21 CPU, 30 seeds)"),),
    ),
    Claim(
        id="input_scaling_unscaled_vs_standardized_little_difference", section="2.1.2.3",
        quote="there was little difference between the distributions of error scores for the unscaled and "
              "standardized input variables",
        interpretation="'Little difference': the mean log10 test MSE of the two input scalings differs by "
                       "less than 0.1 decades (a factor of 1.26 in MSE), over 30 repeats as in the lesson.",
        rule="Paired TOST on the per-seed differences of log10 test MSE: SUPPORTED when the interval lies "
             "within +-0.05 (the near edge of the zone 0.05-0.15 decades around the margin 0.1), REFUTED when "
             "it lies beyond +-0.15, at the design's alpha.",
        experiments=("reg_target_standard", "reg_input_standard"), metric="log10 test MSE",
        metric_fn=c.log10_heldout_loss,
        decide=PairedEquivalenceRule("reg_target_standard", "reg_input_standard", c.log10_heldout_loss,
                                     c.LOG10_MARGIN, "log10 test MSE"),
        readings=(Reading(
            "raw-mse", "'Little difference between the distributions' read on the box plot's own scale: the mean "
            "test MSE differs by less than 0.1 standardized units (10% of the target variance, the suite's 'good "
            "performance' line).", PairedEquivalenceRule("reg_target_standard", "reg_input_standard", c.heldout_loss,
                                                         c.GOOD_MSE_STANDARDIZED, "test MSE"),
            ("test_loss",), c.READINGS_DECLARED),),
        amendments=(c.paired_amendment(
            "TOST equivalence (Welch) on log10 test MSE with margin 0.1; REFUTED if the difference is "
            "significant (two-sided Mann-Whitney) and its estimate exceeds the margin.",
            "Paired TOST on per-seed differences, margin 0.1; REFUTED if the interval lies wholly outside it.",
            "INCONCLUSIVE (difference -0.014 decades, 98% CI [-0.261, 0.233], TOST p=0.204; TF 2.21 CPU, 30 "
            "seeds; per-seed correlation of the two samples 0.991)"),),
    ),
    Claim(
        id="input_scaling_normalized_better", section="2.1.2.3",
        quote="the normalized input variables result in better performance",
        interpretation="Better performance = lower test MSE than both other input scalings.",
        rule="Exact sign test, paired by seed, of normalized against each other group: SUPPORTED if normalized "
             "has the lower MSE on more than 60% of the seeds against both (intersection-union); REFUTED if on "
             "fewer than 40% against one (Bonferroni over the two).",
        experiments=tuple(INPUT_GROUPS.values()), metric="test MSE (standardized units)",
        metric_fn=c.heldout_loss,
        decide=PairedBestOfGroupsRule(tuple(INPUT_GROUPS.items()), "normalized", c.heldout_loss),
        uncontested="'Better performance' is the lesson's own score, a lower test MSE, with no threshold of the "
                    "lesson's to read otherwise; the paired sign test reads it seed by seed.",
        amendments=(c.paired_amendment(
            "Kruskal-Wallis over the three groups, then pairwise Mann-Whitney with Holm correction, alpha 0.01.",
            "Friedman, then paired Wilcoxon (normalized vs each) with Holm, at the design's alpha.",
            "SUPPORTED (Kruskal-Wallis p=1.4e-12, Holm p <= 4.8e-10; TF 2.21 CPU, 30 seeds)"),),
    ),
    Claim(
        id="input_scaling_normalized_tighter", section="2.1.2.3",
        quote="the normalized input variables result in ... more stable or a tighter distribution of error "
              "scores.",
        interpretation="Tighter = a smaller spread of the error scores in the lesson's box plot, relative to "
                       "their level: the standard deviation of log10 test MSE (how many times larger the large "
                       "errors are than the small ones), so that lower errors are not also counted as tighter "
                       "(that is the claim input_scaling_normalized_better). A spread within 20% of the other's "
                       "(ratio 0.8-1.25) is not visibly tighter or wider: the zone.",
        rule="Paired-swap permutation test (9999 sign flips) of the ratio of spreads, normalized vs each other "
             "group: SUPPORTED if below 0.8 against both (intersection-union); REFUTED if above 1.25 against "
             "one (Bonferroni over the two).",
        experiments=tuple(INPUT_GROUPS.values()), metric="test MSE (standardized units)",
        metric_fn=c.heldout_loss,
        decide=PairedTighterRule(tuple(INPUT_GROUPS.items()), "normalized", c.heldout_loss),
        readings=(Reading(
            "raw-mse", "Tighter on the box plot's own scale: the standard deviation of the raw test MSE (there "
            "a lower box is also a narrower one; the lesson's plot shows raw MSE).",
            PairedTighterRule(tuple(INPUT_GROUPS.items()), "normalized", c.heldout_loss, log10=False),
            ("test_loss",), c.READINGS_DECLARED),),
        expect=Expectation(Verdict.INCONCLUSIVE, {c.TF221_CPU: {"effect": (0.65, 0.85), "seeds": (1000, 1000)}},
                           "short of seeds at the last look: normalized inputs' spread of log10 test MSE is about "
                           "0.75 of the others' (2026-11-30: 0.753 [0.646, 0.897] and 0.738 [0.628, 0.888], 1000 "
                           "seeds), below 1 but reaching into the zone [0.8, 1.25]", label="INCONCLUSIVE"),
        amendments=(c.paired_amendment(
            "Brown-Forsythe test of normalized vs each other group, Holm over the two pairs, alpha 0.01.",
            "Rank Pitman-Morgan (paired) vs each other group, Holm, at the design's alpha.",
            "SUPPORTED (IQR ratios 0.056 and 0.062, Holm p=1.6e-7; TF 2.21 CPU, 30 seeds)"), Amendment(
            c.RULES_AMENDED,
            "Spread of test MSE itself (IQR ratio), rank Pitman-Morgan (Spearman of x-y with x+y), Holm, no zone.",
            "Spread of log10 test MSE (standard deviation ratio), paired-swap permutation test against the zone "
            "0.8-1.25.",
            "The rank Pitman-Morgan test measures location, not spread: with equal variances and different shapes "
            "it declares 'wider' in 3% of runs at n=30 (24x its alpha); and the spread of MSE itself restates "
            "that normalized MSE is lower (issue 16: log10 IQR ratios 0.94 and 1.09 were seen before this change).",
            "SUPPORTED (IQR ratio of test MSE 0.0535, p=4e-24, 30 seeds; lesson order, 2026-11-30)")),
    ),
]


CLAIMS = c.with_zone_amendment(CLAIMS)

