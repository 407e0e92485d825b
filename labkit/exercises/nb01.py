"""Expected answers for notebook 01 (imbalanced classes and an SVM)."""

from __future__ import annotations

import numpy as np

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def minority_in_test(y_test) -> int:
    return int((np.asarray(y_test) == 1).sum())


def best_minority_f1(summary) -> str:
    return summary["minority_f1"].idxmax()


def smote_error(X_small, y_small) -> type:
    from labkit import balance

    try:
        balance.resample(X_small, y_small, "smote", random_state=0)
    except Exception as err:
        return type(err)
    return type(None)


def minority_share_effect(experiment):
    return paired_verdict(experiment, "5 %", "1 %", by="minority", pair="repeat", value="minority_recall",
                          label="minority recall of the SVC without balancing")


EXERCISES = {
    "01-1": Exercise(minority_in_test, hint="count the entries of y_test equal to 1, the minority label."),
    "01-2": Exercise(best_minority_f1,
                     hint="look at the minority_f1 column of `summary`; idxmax gives the row label (a method name)."),
    "01-3": Exercise(smote_error, hint="wrap the call in try/except Exception as err and store type(err) — the "
                                       "class itself, not its message or an instance."),
    "01-4": Exercise(minority_share_effect, choices=PREDICTIONS,
                     hint="with five times as many minority samples the SVC's boundary no longer has to "
                          "ignore the minority to be right 99 % of the time."),
}
