import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression

from labkit import balance, data


@pytest.fixture(scope="module")
def imbalanced():
    return data.make_imbalanced(600, (0.9, 0.1), flip_y=0.0, random_state=0)


@pytest.mark.parametrize("method", balance.METHODS)
def test_resample_balances_classes(imbalanced, method):
    X, y = imbalanced
    X_res, y_res = balance.resample(X, y, method, random_state=0)
    counts = np.bincount(y_res)
    assert len(X_res) == len(y_res)
    if method == "none":
        assert np.array_equal(counts, np.bincount(y))
    elif method == "adasyn":  # ADASYN balances approximately by design
        assert abs(counts[0] - counts[1]) <= 0.1 * counts[0]
    else:
        assert counts[0] == counts[1]
    if method == "under":
        assert counts[0] == np.bincount(y)[1]


def test_resample_is_deterministic_with_seed(imbalanced):
    X, y = imbalanced
    a = balance.resample(X, y, "smote", random_state=3)
    b = balance.resample(X, y, "smote", random_state=3)
    assert np.array_equal(a[0], b[0])


def test_resample_unknown_method(imbalanced):
    with pytest.raises(ValueError, match="method.*'tomek'"):
        balance.resample(*imbalanced, "tomek")


@pytest.mark.parametrize(("method", "key"), [("smote", "k_neighbors"), ("adasyn", "n_neighbors")])
def test_too_few_minority_for_neighbours(method, key):
    X = np.random.default_rng(0).normal(size=(54, 3))
    y = np.array([0] * 50 + [1] * 4)
    with pytest.raises(ValueError, match=f"{key}=5.*has 4"):
        balance.resample(X, y, method)
    X_res, y_res = balance.resample(X, y, method, **{key: 2}, random_state=0)
    assert (y_res == 1).sum() > 4


def test_nan_in_X_is_rejected(imbalanced):
    X, y = imbalanced
    X = X.copy()
    X[5, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        balance.resample(X, y, "under")
    with pytest.raises(ValueError, match="X contains NaN"):
        balance.compare(X, y, ["none"], n_repeats=1)


def test_sampler_composes_in_imblearn_pipeline(imbalanced):
    X, y = imbalanced
    for method in balance.METHODS:
        pipe = Pipeline([("balance", balance.make_sampler(method, random_state=0)),
                         ("clf", LogisticRegression())])
        assert pipe.fit(X, y).score(X, y) > 0.5


def test_balance_per_class_exact_counts(imbalanced):
    X, y = imbalanced
    Xb, yb = balance.balance_per_class(X, y, 100, random_state=0)
    assert np.bincount(yb).tolist() == [100, 100]
    # "auto": no duplicates from the class that has enough samples
    big = Xb[yb == 0]
    assert len(np.unique(big, axis=0)) == 100


def test_balance_per_class_replace_false_refuses_too_small(imbalanced):
    with pytest.raises(ValueError, match="n_per_class=100 exceeds"):
        balance.balance_per_class(*imbalanced, 100, replace=False)
    with pytest.raises(ValueError, match="n_per_class"):
        balance.balance_per_class(*imbalanced, 0)


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=5), n=st.integers(1, 40),
       seed=st.integers(0, 1000))
def test_balance_per_class_property(counts, n, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y), dtype=float)[:, None]
    Xb, yb = balance.balance_per_class(X, y, n, random_state=seed)
    assert np.bincount(yb, minlength=len(counts)).tolist() == [n] * len(counts)
    assert np.array_equal(y[Xb[:, 0].astype(int)], yb)  # every row keeps its own label
    Xb2, _ = balance.balance_per_class(X, y, n, random_state=seed)
    assert np.array_equal(Xb, Xb2)


@settings(max_examples=30, deadline=None)
@given(n_major=st.integers(20, 80), n_minor=st.integers(7, 19), seed=st.integers(0, 1000),
       method=st.sampled_from(["under", "over", "smote"]))
def test_resample_counts_property(n_major, n_minor, seed, method):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_major + n_minor, 2))
    y = np.array([0] * n_major + [1] * n_minor)
    _, y_res = balance.resample(X, y, method, random_state=seed)
    expected = n_minor if method == "under" else n_major
    assert np.bincount(y_res).tolist() == [expected, expected]


def test_compare_tidy_frame(imbalanced):
    X, y = imbalanced
    df = balance.compare(X, y, ["none", "under", "class_weight"], n_repeats=3, random_state=0)
    assert isinstance(df, pd.DataFrame) and len(df) == 9
    assert set(balance.METRICS) <= set(df.columns)
    assert df[list(balance.METRICS)].apply(lambda c: c.between(0, 1).all()).all()
    assert (df.query("method == 'under'")["n_train_minority"] * 2 == df.query("method == 'under'")["n_train"]).all()
    again = balance.compare(X, y, ["none", "under", "class_weight"], n_repeats=3, random_state=0)
    pd.testing.assert_frame_equal(df.drop(columns="fit_seconds"), again.drop(columns="fit_seconds"))


def test_compare_under_sampling_raises_minority_recall():
    X, y = data.make_imbalanced(random_state=0)
    df = balance.compare(X, y, ["none", "under"], n_repeats=5, random_state=0)
    recall = df.groupby("method")["minority_recall"].mean()
    assert recall["under"] > recall["none"]


def test_compare_validates(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="methods.*'magic'"):
        balance.compare(X, y, ["magic"])
    with pytest.raises(ValueError, match="n_repeats"):
        balance.compare(X, y, ["none"], n_repeats=0)
    with pytest.raises(ValueError, match="test_size"):
        balance.compare(X, y, ["none"], test_size=1.5)
    with pytest.raises(ValueError, match="binary"):
        balance.compare(X, np.arange(len(y)) % 3, ["none"], n_repeats=1)
    from sklearn.neighbors import KNeighborsClassifier
    with pytest.raises(ValueError, match="class_weight"):
        balance.compare(X, y, ["class_weight"], estimator=KNeighborsClassifier(), n_repeats=1)


def test_fit_balanced_class_weight_sets_param(imbalanced):
    model = balance.fit_balanced(*imbalanced, "class_weight", random_state=0)
    assert model.class_weight == "balanced"


def test_evaluate_minority_and_compare_name_the_bad_parameter():
    from sklearn.svm import SVC

    X, y = data.make_imbalanced(n_samples=200, weights=(0.8, 0.2), random_state=0)
    model = SVC().fit(X, y)
    with pytest.raises(ValueError, match="minority must be one of the classes in y_test \\[0, 1\\], got 7"):
        balance.evaluate_minority(model, X, y, 7)
    with pytest.raises(ValueError, match="y_test has 199 entries but X_test has 200"):
        balance.evaluate_minority(model, X, y[:-1], 1)
    with pytest.raises(ValueError, match="X_test must be 2-D"):
        balance.evaluate_minority(model, X[:, 0], y, 1)
    with pytest.raises(ValueError, match="methods must not be empty"):
        balance.compare(X, y, [])
    with pytest.raises(ValueError, match="replace must be"):
        balance.balance_per_class(X, y, 10, replace="no")


def test_minority_task_binary_keeps_the_least_frequent_class():
    X, y = data.make_imbalanced(300, (0.9, 0.1), flip_y=0.0, random_state=0)
    y = 1 - y  # the minority is now label 0
    task = balance.minority_task(X, y, class_names=["fraud", "ok"])
    assert task.minority == "fraud"
    assert task.y.sum() == (y == 0).sum() and set(np.unique(task.y)) == {0, 1}
    assert task.counts == {"fraud": int((y == 0).sum()), "ok": int((y == 1).sum())}
    assert "'fraud'" in task.note and "against the other class 'ok'" in task.note


def test_minority_task_multiclass_tie_goes_to_the_first_label_and_says_so():
    X = np.random.default_rng(0).normal(size=(120, 3))
    y = np.repeat([0, 1, 2, 3], [30, 30, 40, 20])
    task = balance.minority_task(X, y, class_names=["a", "b", "c", "d"])
    assert task.minority == "d" and task.y.sum() == 20
    tie = balance.minority_task(X[:100], y[:100], class_names=["a", "b", "c", "d"])  # a 30, b 30, c 40
    assert tie.minority == "a" and "'b' has as many samples" in tie.note and "tie" in tie.note
    assert "against the other 2 together" in tie.note


def test_minority_task_caps_with_a_stratified_subset():
    X, y = data.make_imbalanced(1000, (0.9, 0.1), flip_y=0.0, random_state=0)
    task = balance.minority_task(X, y, max_samples=200, random_state=0)
    assert len(task.y) == 200 and task.y.sum() == round(200 * y.mean())
    assert "capped at a stratified random 200 of the 1000" in task.note
    again = balance.minority_task(X, y, max_samples=200, random_state=0)
    assert np.array_equal(task.X, again.X)
    assert "all 1000 samples used (within max_samples=5000)" in balance.minority_task(X, y, max_samples=5000).note


def test_minority_task_refuses_bad_input():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="least frequent class"):
        balance.minority_task(X, [0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="class_names"):
        balance.minority_task(X, [0, 0, 0, 1, 1, 2], class_names=["a", "b"])
    with pytest.raises(TypeError, match="class_names"):
        balance.minority_task(X, [0, 0, 0, 1, 1, 1], class_names="ab")


def test_compare_standardize_scales_inside_each_split():
    X, y = data.make_imbalanced(400, (0.85, 0.15), n_features=5, n_redundant=0, flip_y=0.0, random_state=0)
    X_big = X * np.array([1.0, 1e4, 1.0, 1e-3, 1.0])  # wildly different scales
    plain = balance.compare(X_big, y, ["none"], n_repeats=3, random_state=0)
    scaled = balance.compare(X_big, y, ["none"], n_repeats=3, random_state=0, standardize=True)
    reference = balance.compare(X, y, ["none"], n_repeats=3, random_state=0, standardize=True)
    # scaling inside each split undoes any per-feature scale: the same splits give the same scores
    pd.testing.assert_series_equal(scaled["balanced_accuracy"], reference["balanced_accuracy"])
    assert scaled["balanced_accuracy"].mean() > plain["balanced_accuracy"].mean()
    with pytest.raises(TypeError, match="standardize"):
        balance.compare(X, y, ["none"], n_repeats=1, standardize="yes")


def test_compare_records_a_method_that_cannot_resample():
    # two far-apart blobs: no minority sample has a majority neighbour, so ADASYN cannot generate samples
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, size=(180, 2)), rng.normal(50, 1, size=(20, 2))])
    y = np.array([0] * 180 + [1] * 20)
    with pytest.raises(ValueError, match="adasyn"):
        balance.compare(X, y, ["none", "adasyn"], n_repeats=2, random_state=0)
    df = balance.compare(X, y, ["none", "adasyn"], n_repeats=2, random_state=0, errors="record")
    failed = df[df["method"] == "adasyn"]
    assert len(failed) == 2 and failed["error"].str.contains("adasyn").all()
    assert failed[list(balance.METRICS)].isna().all().all()
    assert df.loc[df["method"] == "none", "error"].isna().all()
    assert "error" not in balance.compare(X, y, ["none", "under"], n_repeats=2, errors="record").columns


@pytest.fixture(scope="module")
def verdicts():
    from labkit import lesson

    X, y = data.make_imbalanced(600, (0.9, 0.1), flip_y=0.0, random_state=0)
    df = balance.compare(X, y, ["none", "under", "over"], n_repeats=6, random_state=0)
    return lesson.verdict_table(df, [("under", "none"), ("over", "none")], by="method", pair="repeat",
                                value=["minority_recall", "minority_precision"])


def test_verdict_sentence_names_each_method_under_its_verdict(verdicts):
    sentence = balance.verdict_sentence(verdicts, "minority_recall")
    rows = verdicts[verdicts["metric"] == "minority_recall"]
    assert sentence.startswith("On minority_recall, each method against none") and "n = 6" in sentence
    for a, word in zip(rows["a"], rows["verdict"], strict=True):
        head = {"better": "better than none:", "worse": "worse than none:",
                "no detectable difference": "no detectable difference from none"}[word]
        assert head in sentence and a in sentence.split(head, 1)[1].split(";")[0]
    assert "indicative" not in sentence
    small = verdicts.assign(n=3)
    assert "indicative: n < 5" in balance.verdict_sentence(small, "minority_recall")


def test_verdict_grid_cells_carry_verdict_interval_and_n(verdicts):
    grid = balance.verdict_grid(verdicts, ["minority_recall", "minority_precision"])
    assert list(grid.index) == ["under", "over"] and list(grid.columns) == ["minority_recall", "minority_precision"]
    row = verdicts[(verdicts["a"] == "under") & (verdicts["metric"] == "minority_recall")].iloc[0]
    assert grid.loc["under", "minority_recall"].startswith(f"{row['verdict']}, {row['diff']:+.3f} ± ")
    assert grid.loc["under", "minority_recall"].endswith("(n = 6)")


def test_verdict_helpers_refuse_bad_input(verdicts):
    with pytest.raises(TypeError, match="verdicts"):
        balance.verdict_sentence("table", "minority_recall")
    with pytest.raises(ValueError, match="verdicts lacks"):
        balance.verdict_grid(pd.DataFrame({"a": [1]}), ["minority_recall"])
    with pytest.raises(ValueError, match="baseline"):
        balance.verdict_sentence(verdicts, "minority_recall", baseline="smote")
    with pytest.raises(ValueError, match="metric 'pr_auc'"):
        balance.verdict_grid(verdicts, ["pr_auc"])
