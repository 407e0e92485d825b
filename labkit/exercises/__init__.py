"""The notebooks' "Try it" exercises: ``check`` says whether an answer is right without showing the answer.

A check cell passes the learner's answer and the notebook variables the exercise depends on::

    exercises.check("01-1", answer_1, y_test=y_test)

The expected value is computed here, in ``labkit/exercises/nbNN.py`` (one module per notebook), from those
variables — never written in the notebook, so a student copy gives nothing away. ``check`` prints
"Correct", "Not quite: <hint>" or "Not answered yet", returns the status and never raises on a wrong
answer, so a notebook always runs top to bottom. With ``$LABKIT_GRADE_LOG`` set (``labkit course grade``
sets it) every check appends one JSON line ``{exercise, status, message}`` to that file.

"Predict, then run" exercises store a word (``"higher"``, ``"lower"``, ``"same"``) before an experiment
runs; their expected value is the verdict of that run's own numbers (see :func:`paired_verdict`).
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Exercise", "Measured", "Status", "check", "exercise_ids", "get", "paired_verdict"]

#: the statuses ``check`` returns and logs (``labkit course grade`` adds ``"error"``)
STATUSES = ("correct", "wrong", "not answered", "error")
#: the words a "predict, then run" answer chooses from
PREDICTIONS = ("higher", "lower", "same")
GRADE_LOG_ENV = "LABKIT_GRADE_LOG"
#: opt-in for nbgrader's autograder, which scores a test cell by whether it raises
RAISE_ENV = "LABKIT_EXERCISES_RAISE"
ID_PATTERN = re.compile(r"^(\d\d)-(\d+)$")
NOTEBOOK_MODULES = ("nb01", "nb02", "nb03", "nb04", "nb05", "nb06")


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``expected(**inputs)`` computes the answer from the notebook's variables.

    ``tol``: absolute tolerance for numbers. ``choices``: set for a "predict, then run" exercise, whose
    ``expected`` returns a :class:`Measured` verdict of the run instead of a value.
    """

    expected: Callable[..., Any]
    hint: str
    tol: float = 0.0
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Measured:
    """What a run measured, for a prediction: the verdict ``word`` and the numbers behind it."""

    word: str
    sentence: str


class Status(str):
    """The result of :func:`check`: ``"correct"``, ``"wrong"``, ``"not answered"`` or ``"error"``.

    Truthy only when correct (like the boolean older check cells used); it displays nothing as a cell's
    last expression, since ``check`` has already printed what it means.
    """

    def __bool__(self) -> bool:
        return self == "correct"

    def _ipython_display_(self) -> None:
        pass


def paired_verdict(df, a, b, *, by: str, pair: str, value: str, label: str | None = None) -> Measured:
    """"higher", "lower" or "same": ``value`` of ``a`` minus ``b``, paired by ``pair``, decided by the one
    verdict rule (:func:`labkit.lesson.compare`: a difference counts only when its 95 % CI excludes 0)."""
    from labkit import lesson

    v = lesson.compare(df, a, b, by=by, pair=pair, value=value, metric=label or value)
    word = {"better": "higher", "worse": "lower"}.get(v.word, "same")
    return Measured(word, f"{word!r} ({v.sentence.rstrip('.')})")


def exercise_ids(notebook: str | None = None) -> list[str]:
    """Every registered exercise id (``"01-1"``, ...), or only those of ``notebook`` (``"01"``)."""
    if notebook is not None and f"nb{notebook}" not in NOTEBOOK_MODULES:
        known = sorted(n.removeprefix("nb") for n in NOTEBOOK_MODULES)
        raise ValueError(f"notebook must be one of {known} or None, got {notebook!r}")
    ids = []
    for name in NOTEBOOK_MODULES:
        if notebook is None or name == f"nb{notebook}":
            ids += list(_module(name).EXERCISES)
    return sorted(ids, key=_sort_key)


def get(exercise: str) -> Exercise:
    """The :class:`Exercise` registered under ``exercise`` (e.g. ``"01-1"``)."""
    match = ID_PATTERN.match(exercise) if isinstance(exercise, str) else None
    if match is None:
        raise ValueError(f"exercise must be an id like '01-1' (notebook-number), got {exercise!r}")
    name = f"nb{match.group(1)}"
    table = _module(name).EXERCISES if name in NOTEBOOK_MODULES else {}
    if exercise not in table:
        raise ValueError(f"exercise {exercise!r} is not registered; known: {exercise_ids()}")
    return table[exercise]


def check(exercise: str, answer: Any, /, **inputs: Any) -> Status:
    """Check ``answer`` to ``exercise``; ``inputs`` are the notebook variables its expected value needs.

    Prints one line — "Correct", "Not quite: <hint>" or "Not answered yet" — and returns the
    :class:`Status`. ``None`` means not answered. A wrong answer (or one that cannot be compared) never
    raises. Bad ``exercise`` ids are the notebook author's mistake and raise ``ValueError``.
    """
    spec = get(exercise)
    if answer is None:
        status, message = "not answered", "Not answered yet: replace None with your answer, run that cell, then this one."
    else:
        try:
            expected = spec.expected(**inputs)
        except Exception as err:  # a broken input must not stop the notebook; say what went wrong
            status = "error"
            message = f"Could not check {exercise}: computing the expected answer failed ({type(err).__name__}: {err})."
        else:
            status, message = _compare(spec, answer, expected)
    print(message)
    _log(exercise, status, message)
    if os.environ.get(RAISE_ENV, "").strip() == "1" and status != "correct":
        raise AssertionError(message)
    return Status(status)


# ------------------------------------------------------------------------------------------ internals
def _module(name: str):
    return importlib.import_module(f"labkit.exercises.{name}")


def _sort_key(exercise: str) -> tuple[int, int]:
    match = ID_PATTERN.match(exercise)
    return (int(match.group(1)), int(match.group(2))) if match else (99, 0)


def _compare(spec: Exercise, answer, expected) -> tuple[str, str]:
    if spec.choices is not None:
        word = answer.strip().lower() if isinstance(answer, str) else answer
        if word not in spec.choices:
            return "wrong", f"Not quite: answer with one of {', '.join(repr(c) for c in spec.choices)}."
        if word == expected.word:
            return "correct", f"Correct: {expected.sentence}."
        hint = spec.hint[:1].upper() + spec.hint[1:]
        return "wrong", f"Not quite: you predicted {word!r}; the run measured {expected.sentence}. {hint}"
    ok = _same(answer, expected, spec.tol)
    return ("correct", "Correct") if ok else ("wrong", f"Not quite: {spec.hint}")


def _plain(value):
    """Tensors to NumPy (detached, on the CPU); everything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _normalise_text(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("‖", "||").lower()


def _same(answer, expected, tol: float) -> bool:
    answer, expected = _plain(answer), _plain(expected)
    if isinstance(expected, str) or isinstance(answer, str):
        return isinstance(answer, str) and isinstance(expected, str) and \
            _normalise_text(answer) == _normalise_text(expected)
    if isinstance(expected, (bool, np.bool_)):
        return isinstance(answer, (bool, np.bool_)) and bool(answer) == bool(expected)
    if isinstance(expected, type):
        return answer is expected
    try:
        a = np.asarray(answer, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        try:
            return bool(answer == expected)
        except Exception:
            return False
    if a.shape != e.shape:
        return False
    return bool(np.allclose(a, e, atol=tol, rtol=0, equal_nan=True))


def _log(exercise: str, status: str, message: str) -> None:
    path = os.environ.get(GRADE_LOG_ENV, "").strip()
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"exercise": exercise, "status": status, "message": message}) + "\n")
    except OSError as err:  # grading still sees the missing record and reports it
        print(f"(could not write the grade log {path!r}: {err})")
