"""Check cells for the notebooks' "Try it" exercises: say clearly whether an answer is right."""

from __future__ import annotations

import numpy as np


def check(answer, expected, *, tol: float = 0.0, hint: str = "") -> bool:
    """Compare a learner's ``answer`` with ``expected`` (numbers within ``tol``, else equality).

    ``None`` means "not answered yet": it prints a reminder and returns ``False`` so the notebook still
    runs top to bottom. A wrong answer raises ``AssertionError`` with the hint.
    """
    if answer is None:
        print("Not answered yet: replace the None above with your code, then run this cell again.")
        return False
    try:
        ok = bool(np.allclose(np.asarray(answer, dtype=float), np.asarray(expected, dtype=float),
                              atol=tol, rtol=0))
    except (TypeError, ValueError):
        ok = answer == expected
    if not ok:
        raise AssertionError(f"Not quite: got {answer!r}. {hint}".strip())
    print(f"Correct: {answer!r}")
    return True
