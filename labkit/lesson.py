"""The notebook support layer: what every notebook would otherwise write again, written once.

- **One verdict rule.** :func:`verdict` / :func:`compare` decide "better / worse / no detectable difference"
  from a paired difference and its 95 % CI, and :func:`claim` is the only way a summary prints such a
  sentence (tagged output, so a test can tell computed claims from hand-written ones:
  :func:`comparative_sentences`).
- **Honest small n.** :func:`ci_text` prints ``n`` beside every interval and labels one from fewer than 5
  runs as indicative (:func:`unlabelled_small_n` finds intervals printed without it).
- **Headline ratios with an interval** (:func:`ratio_interval`, :func:`reached`) and **selection on a
  validation split** (:func:`best_on_validation`).
- **Taught effects as tests, not traps** (:func:`expect`).
- **Results you keep** (:class:`Lesson`, :func:`start`): tidy CSVs and a ``run.json`` per notebook.
- Small helpers: :func:`load_images` with a declared fallback, :func:`pixel_features`, :func:`timer`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from labkit import stats
from labkit._validation import as_generator, check_bool, check_choice, check_int, check_number
from labkit.data import TrainTest, pixel_features  # pixel_features: re-exported
from labkit.stats import SMALL_N, ci_text

__all__ = [
    "COMPARATIVE_WORDS", "SMALL_N", "Choice", "Images", "Lesson", "RatioInterval", "StageTimer", "Verdict",
    "best_on_validation", "ci_text", "claim", "comparative_sentences", "compare", "expect", "load_images",
    "load_train_test",
    "pixel_features", "ratio_interval", "reached", "results_dir", "start", "summary_cells", "timer",
    "unlabelled_small_n", "verdict", "verdict_table",
]

WORDS = ("better", "worse", "no detectable difference")
CLAIM_METADATA = {"labkit": {"kind": "claim"}}

# --- one verdict rule ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome of one paired comparison; ``sentence`` is the only wording a notebook prints for it."""

    word: str  # "better" | "worse" | "no detectable difference"
    diff: float  # mean of value(a) − value(b) over shared runs
    ci: float  # 95 % CI half-width (NaN from one run)
    n: int  # shared runs (pairs)
    a: Any
    b: Any
    metric: str
    sentence: str
    higher_is_better: bool = True

    @property
    def indicative(self) -> bool:
        """Fewer than ``SMALL_N`` pairs: the interval is a hint, not a result."""
        return self.n < SMALL_N

    def row(self) -> dict:
        return {"a": self.a, "b": self.b, "metric": self.metric, "diff": self.diff, "ci": self.ci, "n": self.n,
                "verdict": self.word, "indicative": self.indicative}

    def __str__(self) -> str:
        return self.sentence

    def _ipython_display_(self) -> None:  # a Verdict shown in a notebook is a claim
        claim(self)


def verdict(diff, ci, n, *, a, b, metric: str, higher_is_better: bool = True, digits: int = 3) -> Verdict:
    """The one verdict rule: a paired difference ``a − b`` whose 95 % CI excludes 0 makes ``a`` better
    (or worse) than ``b`` on ``metric``; otherwise there is "no detectable difference at n = N" — which is
    not the same as "equal". With ``n < 5`` the sentence says "(indicative: n = N < 5)".
    """
    diff = check_number(diff, "diff")
    ci = float("nan") if _is_nan(ci) else check_number(ci, "ci", low=0.0)
    n = check_int(n, "n", low=1)
    if not isinstance(metric, str) or not metric:
        raise TypeError(f"metric must be a non-empty str, got {metric!r}")
    higher_is_better = check_bool(higher_is_better, "higher_is_better")
    digits = check_int(digits, "digits", low=0, high=12)
    excludes_zero = not math.isnan(ci) and abs(diff) > ci
    if excludes_zero:
        word = "better" if (diff > 0) == higher_is_better else "worse"
    else:
        word = "no detectable difference"
    what = metric if higher_is_better else f"{metric} (lower is better)"
    small = f"indicative: n = {n} < {SMALL_N}"
    if math.isnan(ci):
        interval = f"{a} − {b} = {diff:+.{digits}f}, no interval from n = {n}"
    else:
        interval = f"{a} − {b} = {diff:+.{digits}f} ± {ci:.{digits}f}"
    if excludes_zero:
        sentence = f"{a} is {word} than {b} on {what}: {interval} ({small if n < SMALL_N else f'n = {n}'})."
    else:
        tail = f"; {small}" if n < SMALL_N else ""
        includes = "" if math.isnan(ci) else "; the 95 % CI includes 0"
        sentence = f"{a} vs {b} on {what}: no detectable difference at n = {n} ({interval}{includes}{tail})."
    return Verdict(word, diff, ci, n, a, b, metric, sentence, higher_is_better)


def _is_nan(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value)


def compare(df: pd.DataFrame, a, b, *, by: str, pair: str | Sequence[str], value: str,
            higher_is_better: bool = True, metric: str | None = None, nan_policy: str = "raise") -> Verdict:
    """:func:`verdict` on ``value(a) − value(b)`` paired over ``pair`` (seed, split or repeat), the rows of
    ``a`` and ``b`` picked by column ``by`` (:func:`labkit.stats.paired_differences`). ``metric`` names the
    value in the sentence (default: ``value``).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    diffs = stats.paired_differences(df, a, b, by=by, pair=pair, value=value, nan_policy=nan_policy)
    if len(diffs) == 0:
        raise ValueError(f"a={a!r} and b={b!r} share no value of pair={pair!r}: there is nothing to pair")
    mean, ci = stats.mean_ci(diffs)
    return verdict(mean, ci, len(diffs), a=a, b=b, metric=metric or value, higher_is_better=higher_is_better)


def verdict_table(df: pd.DataFrame, pairs: Iterable[tuple[Any, Any]], *, by: str, pair: str | Sequence[str],
                  value: str | Sequence[str], within: str | Sequence[str] | None = None,
                  higher_is_better: bool = True) -> pd.DataFrame:
    """One row per comparison — ``[*within], a, b, metric, diff, ci, n, verdict, indicative`` — for each
    ``(a, b)`` in ``pairs``, each metric in ``value`` and (with ``within``, e.g. ``"k"``) each group.
    Every row is decided by :func:`compare`, so a table and a sentence never disagree.
    """
    pairs = list(pairs)
    for i, p in enumerate(pairs):
        if not isinstance(p, tuple | list) or len(p) != 2:
            raise ValueError(f"pairs[{i}] must be an (a, b) pair, got {p!r}")
    if not pairs:
        raise ValueError("pairs is empty: give at least one (a, b) pair")
    values = [value] if isinstance(value, str) else list(value)
    within = [] if within is None else [within] if isinstance(within, str) else list(within)
    missing = [c for c in within if c not in df.columns]
    if missing:
        raise ValueError(f"within columns not in df: {missing} (df has {list(df.columns)})")
    groups = [((), df)] if not within else df.groupby(within, sort=True)
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for a, b in pairs:
            for v in values:
                try:
                    result = compare(group, a, b, by=by, pair=pair, value=v, higher_is_better=higher_is_better)
                except ValueError as err:
                    where = dict(zip(within, key, strict=True))
                    raise ValueError(f"{err} (in group {where})" if where else str(err)) from None
                rows.append({**dict(zip(within, key, strict=True)), **result.row()})
    return pd.DataFrame(rows)


# --- claims and the checkers that keep them honest ----------------------------------------------------------

COMPARATIVE_WORDS = (
    "better", "worse", "best", "worst", "beats", "beat", "beaten", "higher", "lower", "more", "less", "fewer",
    "improves", "improved", "improve", "improvement", "outperforms", "outperformed", "outperform", "helps",
    "helped", "help", "hurts", "hurt", "gained", "gains", "lost", "loses", "lose", "wins", "won", "win",
    "superior", "inferior",
)
_COMPARATIVE = re.compile(r"\b(" + "|".join(COMPARATIVE_WORDS) + r")\b", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def claim(text_or_verdict: str | Verdict) -> None:
    """Print a comparative sentence as a *claim*: the only way a summary says "better", "worse", "beats" ...

    In IPython it emits display data (``text/plain`` and ``text/markdown``) with metadata
    ``{"labkit": {"kind": "claim"}}``, which :func:`comparative_sentences` recognises; elsewhere it prints.
    Pass a :class:`Verdict` (its sentence) or a string built from one.
    """
    if isinstance(text_or_verdict, Verdict):
        text = text_or_verdict.sentence
    elif isinstance(text_or_verdict, str):
        text = text_or_verdict
    else:
        raise TypeError(f"text_or_verdict must be a str or a Verdict, got {type(text_or_verdict).__name__}")
    shell = _ipython()
    if shell is None:
        print(text)
        return
    from IPython.display import display

    markdown = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    display({"text/plain": text, "text/markdown": markdown}, raw=True, metadata=dict(CLAIM_METADATA))


def _ipython():
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def _read_notebook(nb):
    from labkit._validation import read_notebook

    return read_notebook(nb, "nb")


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def summary_cells(nb, *, tags: Sequence[str] = ("summary",)) -> list[int]:
    """Indices of the cells under a heading that says "Summary" (up to the next heading of the same or a
    higher level), plus every cell tagged with one of ``tags``."""
    nb = _read_notebook(nb)
    level, found = None, []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = _HEADING.match(line)
                if not m:
                    continue
                depth = len(m.group(1))
                if level is not None and depth <= level:
                    level = None
                if level is None and re.search(r"\bsummary\b", m.group(2), re.IGNORECASE):
                    level = depth
        if level is not None or set(tags) & set(cell.get("metadata", {}).get("tags", [])):
            found.append(i)
    return found


def _is_claim(output) -> bool:
    meta = output.get("metadata", {}) or {}
    return isinstance(meta.get("labkit"), Mapping) and meta["labkit"].get("kind") == "claim"


def _output_text(output, *, tables: bool) -> str | None:
    """The readable text of one output: stdout, markdown, or plain text (tables only when ``tables``)."""
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text", "")) if output.get("name") == "stdout" else None
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data", {})
    if "text/markdown" in data:
        return _joined(data["text/markdown"])
    if "text/html" in data and not tables:
        html = _joined(data["text/html"])
        if "<table" in html:
            return None  # a data table, not prose
        return re.sub(r"<[^>]+>", " ", html)
    if "text/plain" in data and not any(k.startswith("image/") for k in data):
        return _joined(data["text/plain"])
    return None


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for part in re.split(r"(?<=[.!?])\s+", line.strip()):
            part = part.strip(" -•*\t")
            if part:
                out.append(part)
    return out


def comparative_sentences(nb, *, tags: Sequence[str] = ("summary",),
                          markdown: bool = False) -> list[tuple[int, str]]:
    """``(cell_index, sentence)`` for every comparative sentence (a word from ``COMPARATIVE_WORDS``) that an
    EXECUTED notebook's summary cells print *outside* :func:`claim` outputs: stdout, markdown and plain-text
    displays (data tables are not sentences and are skipped). A notebook whose claims all come from the run
    gives ``[]``. ``markdown=True`` also checks the summary's own markdown text (questions excepted).
    """
    nb = _read_notebook(nb)
    markdown = check_bool(markdown, "markdown")
    found = []
    for i in summary_cells(nb, tags=tags):
        cell = nb.cells[i]
        texts = []
        if cell.cell_type == "code":
            texts = [_output_text(o, tables=False) for o in cell.get("outputs", []) if not _is_claim(o)]
        elif cell.cell_type == "markdown" and markdown:
            texts = [line for line in cell.source.splitlines() if not _HEADING.match(line)]
        for text in filter(None, texts):
            for sentence in _sentences(text):
                if cell.cell_type == "markdown" and sentence.endswith("?"):
                    continue
                if _COMPARATIVE.search(sentence):
                    found.append((i, sentence))
    return found


_NUMBER = r"[-+−]?(?:\d+(?:[.,]\d+)*|\.\d+|nan|inf)(?:\s*%)?"
_CI = re.compile(rf"(?<![\w.])({_NUMBER})\s*±\s*({_NUMBER})", re.IGNORECASE)
_N_LABEL = re.compile(r"\bn\s*=\s*(\d+)")


def unlabelled_small_n(nb, *, require_n: bool = True) -> list[tuple[int, str]]:
    """``(cell_index, line)`` (once per line) for every interval ``x ± y`` an EXECUTED notebook prints (any cell, any text
    output, tables included) from fewer than ``SMALL_N`` runs without the word "indicative".

    It reads the ``n = N`` that :func:`ci_text`, :func:`labkit.stats.format_ci` and :func:`verdict` always
    print beside an interval: first after it (up to the next interval on the line), else before it on the
    same line. With ``require_n`` (the default) an interval printed with no ``n`` at all is reported too:
    nothing can vouch for it, so print it with :func:`ci_text`.
    """
    nb = _read_notebook(nb)
    require_n = check_bool(require_n, "require_n")
    found: list[tuple[int, str]] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = _output_text(output, tables=True)
            for line in (text or "").splitlines():
                matches = list(_CI.finditer(line))
                for j, m in enumerate(matches):
                    after = line[m.end(): matches[j + 1].start() if j + 1 < len(matches) else len(line)]
                    before = line[matches[j - 1].end() if j else 0: m.start()]
                    hit = _N_LABEL.search(after)
                    if hit is None:
                        hits = list(_N_LABEL.finditer(before))
                        hit = hits[-1] if hits else None
                    labelled = "indicative" in (after + before).lower()
                    bad = require_n if hit is None else int(hit.group(1)) < SMALL_N and not labelled
                    if bad and (i, line.strip()) not in found:
                        found.append((i, line.strip()))
    return found


# --- headline ratios, targets reached, selection on validation ---------------------------------------------


class RatioInterval(NamedTuple):
    """A headline ratio with its bootstrap interval over repeats; unpacks as ``point, low, high, n``."""

    point: float
    low: float
    high: float
    n: int

    def text(self, digits: int = 2) -> str:
        label = f"indicative, n = {self.n}" if self.n < SMALL_N else f"n = {self.n}"
        return (f"{self.point:.{digits}f} (95 % bootstrap interval {self.low:.{digits}f}–{self.high:.{digits}f}, "
                f"{label})")

    def __str__(self) -> str:
        return self.text()


def _as_runs(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of per-repeat numbers, got shape {arr.shape}")
    return arr


def ratio_interval(numerators, denominators, *, n_boot: int = 2000, random_state=0, statistic: str = "median",
                   confidence: float = 0.95, paired: bool = True, nan_policy: str = "raise") -> RatioInterval:
    """``statistic(numerators) / statistic(denominators)`` with a percentile-bootstrap interval over repeats.

    A headline ratio from a handful of repeats moves a lot between runs (0.90 → 0.53 from 2 to 20 repeats
    in notebook 02); the interval shows how much. ``paired=True`` (equal lengths, repeat i of both sides from
    the same seed) resamples repeats jointly. NaN (e.g. a repeat that never reached a target) raises with
    ``nan_policy="raise"``; ``"inf"`` counts it as needing more than the budget (+inf — a median stays
    finite while fewer than half miss); ``"omit"`` drops it (biased: say so). ``n``: repeats used.
    """
    num, den = _as_runs(numerators, "numerators"), _as_runs(denominators, "denominators")
    n_boot = check_int(n_boot, "n_boot", low=1)
    check_choice(statistic, "statistic", ("median", "mean"))
    confidence = check_number(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    paired = check_bool(paired, "paired")
    check_choice(nan_policy, "nan_policy", ("raise", "inf", "omit"))
    if paired and len(num) != len(den):
        raise ValueError(f"paired=True needs as many numerators as denominators, got {len(num)} and {len(den)}")
    if nan_policy == "raise":
        for arr, name in ((num, "numerators"), (den, "denominators")):
            if np.isnan(arr).any():
                raise ValueError(f"{name} contains NaN; pass nan_policy='inf' (never reached: +inf) or 'omit'")
    elif nan_policy == "inf":
        num, den = np.where(np.isnan(num), np.inf, num), np.where(np.isnan(den), np.inf, den)
    elif paired:
        keep = ~(np.isnan(num) | np.isnan(den))
        num, den = num[keep], den[keep]
    else:
        num, den = num[~np.isnan(num)], den[~np.isnan(den)]
    if num.size == 0 or den.size == 0:
        raise ValueError("no repeats left after nan_policy='omit'")
    stat = np.median if statistic == "median" else np.mean
    rng = as_generator(random_state)
    idx_num = rng.integers(0, len(num), size=(n_boot, len(num)))
    idx_den = idx_num if paired else rng.integers(0, len(den), size=(n_boot, len(den)))
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(stat(num) / stat(den))
        ratios = stat(num[idx_num], axis=1) / stat(den[idx_den], axis=1)
    ratios = ratios[~np.isnan(ratios)]
    if ratios.size == 0:
        low = high = float("nan")
    else:
        tail = (1 - confidence) / 2
        low = float(np.quantile(ratios, tail, method="lower"))
        high = float(np.quantile(ratios, 1 - tail, method="higher"))
    return RatioInterval(point, low, high, int(min(len(num), len(den))))


def reached(values, *, noun: str = "repeats") -> str:
    """``"reached in 14 of 20 repeats"``: ``values`` holds one entry per repeat — a bool, or a number
    (e.g. labels to reach a target) where NaN, None or inf means it never got there."""
    arr = np.asarray(values, dtype=object if not hasattr(values, "dtype") else None)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {arr.shape}")
    if arr.dtype == bool or all(isinstance(v, bool | np.bool_) for v in arr):
        hits = int(np.sum(arr.astype(bool)))
    else:
        try:
            nums = np.array([np.nan if v is None else v for v in arr], dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"values must hold bools or numbers (NaN/None = not reached), got {arr[:3]!r}") from err
        hits = int(np.isfinite(nums).sum())
    return f"reached in {hits} of {arr.size} {noun}"


@dataclass(frozen=True)
class Choice:
    """A setting chosen on the validation split and reported on the test split."""

    by: str | tuple[str, ...]
    best: Any
    validation: float
    validation_ci: float
    validation_n: int
    test: float
    test_ci: float
    test_n: int
    tied: tuple  # settings whose validation mean lies within the chosen one's CI
    table: pd.DataFrame  # validation and test mean per setting, validation order (chosen first)
    sentence: str

    def __str__(self) -> str:
        return self.sentence


def best_on_validation(df: pd.DataFrame, by: str | Sequence[str], value: str, *, split_col: str = "split",
                       validation: str = "validation", test: str = "test",
                       higher_is_better: bool = True) -> Choice:
    """Choose the setting (``by``: β, T × α, a method ...) with the best mean ``value`` on the VALIDATION rows
    and report its numbers on the TEST rows.

    Picking the best on the same test numbers one then reports inflates them — the maximum of several noisy
    estimates is biased upwards. 004 §3.2's protocol: evaluate candidates on a validation set, pick the
    best, and report it on a test set nobody chose with. Raises ``ValueError`` when ``df`` has no validation
    rows (refusing to choose on test). ``tied`` lists settings within the chosen one's validation CI.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    from labkit._validation import check_columns

    by_cols = check_columns(df, by, "by")
    check_columns(df, value, "value")
    if split_col not in df.columns:
        raise ValueError(f"split_col={split_col!r} is not a column of df (df has {list(df.columns)}); it must say "
                         "which rows are validation and which are test")
    higher_is_better = check_bool(higher_is_better, "higher_is_better")
    val_rows, test_rows = df[df[split_col] == validation], df[df[split_col] == test]
    if test_rows.empty:
        raise ValueError(f"no rows with {split_col} == test={test!r} (values: "
                         f"{sorted(map(str, df[split_col].unique()))}): the chosen setting is reported on them")
    if val_rows.empty:
        raise ValueError(f"no rows with {split_col} == validation={validation!r} (values: {sorted(map(str, df[split_col].unique()))})"
                         ": refusing to choose on the test split — evaluate the candidates on a validation split")
    val = stats.summarize(val_rows, by_cols, [value]).sort_values(value, ascending=not higher_is_better,
                                                                  kind="stable")
    keys = [tuple(r) for r in val[by_cols].itertuples(index=False)]
    chosen = val.iloc[0]
    best = keys[0] if len(by_cols) > 1 else keys[0][0]
    mask = np.logical_and.reduce([test_rows[c] == chosen[c] for c in by_cols])
    chosen_test = test_rows[mask]
    if chosen_test.empty:
        raise ValueError(f"no {split_col} == {test!r} rows for the chosen setting {dict(zip(by_cols, keys[0], strict=True))}")
    t_mean, t_ci = stats.mean_ci(chosen_test[value])
    v_ci = chosen[f"{value}_ci"]
    tied = tuple(k if len(by_cols) > 1 else k[0] for k, m in zip(keys[1:], val[value].iloc[1:], strict=True)
                 if not math.isnan(v_ci) and abs(m - chosen[value]) <= v_ci)
    test_means = (stats.summarize(test_rows, by_cols, [value]).set_index(by_cols)[value]
                  if not test_rows.empty else pd.Series(dtype=float))
    table = val.set_index(by_cols)[[value, "n"]].rename(columns={value: f"validation {value}", "n": "validation n"})
    table[f"test {value}"] = test_means.reindex(table.index)
    label = "=".join(by_cols) if len(by_cols) == 1 else ", ".join(by_cols)
    sentence = (f"Chosen on the {validation} split: {label} = {best} ({validation} {value} "
                f"{ci_text(chosen[value], v_ci, int(chosen['n']))}); on the {test} split it scores "
                f"{ci_text(t_mean, t_ci, len(chosen_test))}.")
    if tied:
        sentence += f" Within its {validation} CI (a tie at this n): " + ", ".join(map(str, tied)) + "."
    return Choice(by if isinstance(by, str) else tuple(by_cols), best, float(chosen[value]), float(v_ci),
                  int(chosen["n"]), t_mean, t_ci, len(chosen_test), tied, table.reset_index(), sentence)


# --- taught effects: tests under the suite, reports in a learner's hands -----------------------------------


def _strict_env() -> bool:
    return os.environ.get("LABKIT_STRICT", "").strip().lower() in ("1", "true", "yes")


def expect(condition, effect: str, *, strict: bool | None = None) -> bool:
    """Check an effect the notebook teaches (e.g. "KD beats the student alone").

    Under the test suite (``LABKIT_STRICT=1``) a missing effect raises ``AssertionError(effect)`` unless
    ``strict=False`` (notebooks pass ``strict=USING_DEFAULT_DATA``: on a learner's own data or after a widget
    change an effect may honestly not appear). Otherwise it prints "The effect did not appear here: <effect>"
    and the notebook goes on. Returns the condition as a bool.
    """
    if not isinstance(effect, str) or not effect.strip():
        raise TypeError(f"effect must be a non-empty str describing the effect, got {effect!r}")
    if strict is not None:
        strict = check_bool(strict, "strict")
    if hasattr(condition, "item") and getattr(condition, "shape", None) in ((), (1,)):
        condition = condition.item()
    if not isinstance(condition, bool | np.bool_):
        raise TypeError(f"condition must be a bool (e.g. a comparison), got {condition!r} "
                        f"({type(condition).__name__})")
    ok = bool(condition)
    if not ok:
        if _strict_env() and strict is not False:
            raise AssertionError(effect)
        print(f"The effect did not appear here: {effect}")
    return ok


# --- results you keep -------------------------------------------------------------------------------------

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_PARAMETER = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _check_stem(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r} ({type(value).__name__})")
    if not _STEM.match(value):
        raise ValueError(f"{name} must be a simple file stem (letters, digits, '_' and '-', no dots or "
                         f"slashes), got {value!r}")
    return value


def results_dir(stem: str) -> Path:
    """Where a notebook's kept results go: ``$LABKIT_OUT/<stem>`` (the runner sets ``LABKIT_OUT``), otherwise
    ``<checkout>/reports/<stem>`` next to the ``labkit`` package — never relative to the working directory."""
    stem = _check_stem(stem, "stem")
    out = os.environ.get("LABKIT_OUT", "").strip()
    base = Path(out).expanduser().resolve() if out else Path(__file__).resolve().parent.parent / "reports"
    return base / stem


def _json_safe(value, depth: int = 0):
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if depth < 6 and isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_json_safe(v, depth + 1) for v in items]
    if depth < 6 and isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    return repr(value)


def _is_plain(value, depth: int = 0) -> bool:
    """A parameter-like value: numbers, strings, paths and small containers of them (not data, not code)."""
    if value is None or isinstance(value, str | bool | numbers.Number | os.PathLike | np.bool_):
        return True
    if depth < 4 and isinstance(value, list | tuple | set | frozenset) and len(value) <= 1000:
        return all(_is_plain(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict) and len(value) <= 1000:
        return all(_is_plain(v, depth + 1) for v in value.values())
    return False


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _device() -> str:
    wanted = os.environ.get("LABKIT_DEVICE", "").strip()
    if wanted:
        return wanted
    torch = sys.modules.get("torch")  # never import torch just to say which device a run used
    if torch is None:
        return "cpu"
    try:
        if torch.cuda.is_available():
            return f"cuda ({torch.cuda.get_device_name(0)})"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    except Exception:  # noqa: BLE001 -- a broken driver must not stop a run from saving its results
        return "unknown"
    return "cpu"


class Lesson:
    """One notebook run's kept results: tidy tables as ``<name>.csv`` and a ``run.json`` beside them.

    ``lab = Lesson("02_active_learning", {"SEED": 0, ...})`` (or :func:`start`); ``lab.keep(df, "efficiency")``
    writes the table and rewrites ``run.json``; ``lab.headline(text)`` prints a headline and records it for
    the report dashboard. Files go to :func:`results_dir`.
    """

    def __init__(self, stem: str, parameters: Mapping[str, Any] | None = None):
        self.stem = _check_stem(stem, "stem")
        if parameters is not None and not isinstance(parameters, Mapping):
            raise TypeError(f"parameters must be a mapping of name -> value, got {type(parameters).__name__}")
        self.parameters = {str(k): _json_safe(v) for k, v in (parameters or {}).items()}
        self.dir = results_dir(stem)
        self.tables: dict[str, str] = {}
        self.headlines: list[str] = []
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._t0 = time.perf_counter()

    def __repr__(self) -> str:
        return f"Lesson({self.stem!r}, dir={str(self.dir)!r}, tables={list(self.tables)})"

    def keep(self, df: pd.DataFrame | pd.Series, name: str) -> pd.DataFrame | pd.Series:
        """Write ``df`` as tidy ``<name>.csv`` (a named or multi-level index becomes columns) and rewrite
        ``run.json``. Returns ``df`` unchanged, so ``display(lab.keep(table, "summary"))`` reads naturally."""
        name = _check_stem(name, "name")
        if isinstance(df, pd.Series):
            frame = df.to_frame(name=df.name if df.name is not None else name)
        elif isinstance(df, pd.DataFrame):
            frame = df
        else:
            raise TypeError(f"df must be a pandas DataFrame or Series, got {type(df).__name__}")
        plain_index = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
        tidy = frame if plain_index else frame.reset_index()
        if tidy.columns.nlevels > 1:
            tidy = tidy.copy()
            tidy.columns = [" ".join(str(p) for p in col if str(p)) for col in tidy.columns]
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        tidy.to_csv(tmp, index=False)
        os.replace(tmp, path)
        self.tables[name] = path.name
        self.write()
        return df

    def headline(self, text: str | Verdict) -> None:
        """Print a headline (a :class:`Verdict` goes through :func:`claim`) and record it in
        ``run.json["headlines"]``, which the report dashboard shows."""
        if isinstance(text, Verdict):
            claim(text)
            text = text.sentence
        elif isinstance(text, str):
            print(text)
        else:
            raise TypeError(f"text must be a str or a Verdict, got {type(text).__name__}")
        if text not in self.headlines:
            self.headlines.append(text)
        self.write()

    def info(self) -> dict:
        """What ``run.json`` holds."""
        from labkit import __version__
        from labkit.core import get_profile

        profile = self.parameters.get("PROFILE")
        if profile is None:
            try:
                profile = get_profile()
            except ValueError:
                profile = os.environ.get("LABKIT_PROFILE")
        return {
            "notebook": self.stem,
            "started": self.started,
            "wall_seconds": round(time.perf_counter() - self._t0, 2),
            "profile": profile,
            "seed": self.parameters.get("SEED"),
            "parameters": self.parameters,
            "versions": {"labkit": __version__, "python": platform.python_version(),
                         "torch": _version("torch"), "scikit-learn": _version("scikit-learn"),
                         "numpy": _version("numpy"), "pandas": _version("pandas")},
            "device": _device(),
            "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
            "tables": dict(self.tables),
            "headlines": list(self.headlines),
        }

    def write(self) -> Path:
        """(Re)write ``run.json``; returns its path."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "run.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.info(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path


def start(stem: str, namespace: Mapping[str, Any]) -> Lesson:
    """A :class:`Lesson` whose parameters are the UPPER_CASE names in ``namespace`` (pass ``globals()`` right
    after the ``parameters`` cell); data and code (arrays, models, functions) are left out."""
    if not isinstance(namespace, Mapping):
        raise TypeError(f"namespace must be a mapping such as globals(), got {type(namespace).__name__}")
    params = {k: v for k, v in namespace.items() if _PARAMETER.match(k) and _is_plain(v)}
    return Lesson(stem, dict(sorted(params.items())))


# --- small helpers the notebooks repeat -----------------------------------------------------------------


class Images(NamedTuple):
    """Images as ``data.load_images`` returns them, plus the name of the data set actually loaded."""

    X: Any  # torch.uint8 [N, C, H, W]
    y: Any  # torch.int64 [N]
    name: str


def _with_fallback(name, fallback: str | None, load: Callable[[Any], Any]):
    """``load(name)``; if the built-in data set ``name`` is unavailable, say so and ``load(fallback)``.
    Returns ``(result, the name actually loaded)``. A path (your own data) never falls back."""
    from labkit import data

    if fallback is not None and fallback not in data.IMAGE_DATASETS:
        raise ValueError(f"fallback must be None or one of {data.IMAGE_DATASETS}, got {fallback!r}")
    try:
        return load(name), name
    except data.DatasetUnavailable as err:
        builtin = isinstance(name, str) and name in data.IMAGE_DATASETS
        if fallback is None or not builtin or fallback == name:
            raise
        print(f"FALLBACK: {name} is not available here ({err}).")
        print(f"FALLBACK: using {fallback} instead; every number below is about {fallback}, not {name}.")
        return load(fallback), fallback


def load_images(name, split: str = "train", *, fallback: str | None = "digits", n: int | None = None,
                random_state=0, **kwargs) -> Images:
    """:func:`labkit.data.load_images` with a declared fallback, printing what it did — never silent.

    If the built-in data set ``name`` is unavailable, it prints FALLBACK lines and loads ``fallback``
    (``None``: no fallback, the loader's error stops the run). A path (your own data) never falls back.
    ``n`` keeps a seeded random subset of that many images (capped by what the data holds, and said so).
    Unpack as ``X, y, DATASET = lesson.load_images(DATASET, "train")``.
    """
    from labkit import data

    if n is not None:
        n = check_int(n, "n", low=1)
    (X, y), used = _with_fallback(name, fallback, lambda source: data.load_images(source, split, **kwargs))
    total = len(y)
    note = ""
    if n is not None and n < total:
        idx = np.sort(as_generator(random_state).choice(total, size=n, replace=False))
        if hasattr(X, "index_select"):  # torch tensors
            import torch

            X, y = X[torch.from_numpy(idx)], y[torch.from_numpy(idx)]
        else:
            X, y = X[idx], y[idx]
        note = f", a random {n} of {total} (random_state={random_state})"
    elif n is not None:
        note = f" (asked for {n}; the split holds {total}, so all are used)"
    print(f"data: {used}, {split} split: {len(y)} images of shape {tuple(X.shape[1:])}{note}")
    return Images(X, y, str(used))


def load_train_test(source, target: str | None = None, *, fallback: str | None = "digits", **kwargs) -> TrainTest:
    """:func:`labkit.data.train_test` (``DATASET``/``TARGET`` -> training and test features) with a declared
    fallback for a missing built-in set (as :func:`load_images`), printing what it loaded."""
    from labkit import data

    parts, _ = _with_fallback(source, fallback, lambda name: data.train_test(name, target=target, **kwargs))
    print(f"data: {parts.description}: {len(parts.y_train)} training and {len(parts.y_test)} test rows, "
          f"{parts.X_train.shape[1]} features")
    return parts


class StageTimer:
    """Wall and CPU seconds per named stage: ``with t("train"): ...`` or ``t.lap("train")`` (time since the
    last lap); a stage named twice accumulates. ``t.table()`` / ``print(t)`` report them with a total."""

    def __init__(self):
        self.stages: dict[str, list[float]] = {}
        self._start = self._mark = (time.perf_counter(), time.process_time())

    def _add(self, name: str, since: tuple[float, float]) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        now = (time.perf_counter(), time.process_time())
        wall, cpu = self.stages.setdefault(name, [0.0, 0.0])
        self.stages[name] = [wall + now[0] - since[0], cpu + now[1] - since[1]]
        self._mark = now

    @contextmanager
    def __call__(self, name: str):
        since = (time.perf_counter(), time.process_time())
        try:
            yield self
        finally:
            self._add(name, since)

    def lap(self, name: str) -> float:
        """Record the time since the last lap (or stage, or the start) as ``name``; returns its wall seconds."""
        since = self._mark
        self._add(name, since)
        return self._mark[0] - since[0]

    @property
    def total(self) -> float:
        """Wall seconds since the timer started."""
        return time.perf_counter() - self._start[0]

    def table(self) -> pd.DataFrame:
        rows = [{"stage": k, "wall_s": w, "cpu_s": c} for k, (w, c) in self.stages.items()]
        now = (time.perf_counter(), time.process_time())
        rows.append({"stage": "total", "wall_s": now[0] - self._start[0], "cpu_s": now[1] - self._start[1]})
        return pd.DataFrame(rows).set_index("stage")

    def __str__(self) -> str:
        return "seconds per stage, wall (CPU): " + ", ".join(
            f"{k} {r.wall_s:.1f} ({r.cpu_s:.1f})" for k, r in self.table().iterrows())

    def show(self) -> None:
        print(self)


def timer() -> StageTimer:
    """A new :class:`StageTimer`, started now."""
    return StageTimer()
