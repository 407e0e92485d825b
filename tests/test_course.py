"""Course edition: exercises checked from the package, student/instructor builds, grading of submissions."""

import ast
import csv
import json

import nbformat
import numpy as np
import pandas as pd
import pytest

from labkit import cli, course, exercises, notebook

SOURCES = notebook.list_notebooks()


# ------------------------------------------------------------------------------------ exercises.check
def test_check_statuses_print_and_never_raise(capsys):
    status = exercises.check("02-1", None)
    assert status == "not answered" and not status
    assert "Not answered yet" in capsys.readouterr().out
    status = exercises.check("02-1", 0.7 + 1e-12)  # within the exercise's tolerance
    assert status == "correct" and status
    assert capsys.readouterr().out.startswith("Correct")
    status = exercises.check("02-1", 0.6)  # wrong: the hint, no exception
    out = capsys.readouterr().out
    assert status == "wrong" and not status
    assert out.startswith("Not quite: ") and "p₂" in out
    assert exercises.check("02-1", "a string") == "wrong"  # cannot be compared: still just wrong
    assert exercises.check("02-1", [0.7, 0.7]) == "wrong"  # wrong shape
    assert exercises.check("04-3", "KL(reference ‖ subset)") == "correct"  # spacing and ‖ normalised
    assert exercises.check("03-1", [13, 4, 13]) == "correct"
    assert exercises.check("03-1", [10, 10, 10]) == "wrong"


def test_check_computes_expected_from_notebook_variables(capsys):
    y_test = np.array([0, 1, 1, 0, 1])
    assert exercises.check("01-1", 3, y_test=y_test) == "correct"
    assert exercises.check("01-1", 2, y_test=y_test) == "wrong"
    summary = pd.DataFrame({"minority_f1": [0.2, 0.5]}, index=["none", "under"])
    assert exercises.check("01-2", "under", summary=summary) == "correct"
    X_small = np.vstack([np.random.default_rng(0).normal(size=(20, 3)), np.ones((2, 3))])
    y_small = np.array([0] * 20 + [1] * 2)
    assert exercises.check("01-3", ValueError, X_small=X_small, y_small=y_small) == "correct"
    assert exercises.check("01-3", "ValueError", X_small=X_small, y_small=y_small) == "wrong"
    # an input the expected answer cannot be computed from: reported, not raised
    status = exercises.check("01-1", 3)
    assert status == "error" and "Could not check 01-1" in capsys.readouterr().out


def test_check_accepts_tensors():
    torch = pytest.importorskip("torch")
    from labkit import distill

    s, t = torch.randn(4, 10, generator=torch.Generator().manual_seed(0)), torch.randn(4, 10)
    answer = torch.nn.functional.kl_div(torch.log_softmax(s / 2, 1), torch.softmax(t / 2, 1),
                                        reduction="batchmean") * 4
    assert exercises.check("06-2", answer, s_demo=s, t_demo=t) == "correct"
    assert exercises.check("06-2", distill.kd_loss(s, t, temperature=4.0), s_demo=s, t_demo=t) == "wrong"


def _experiment(gain, n=8):
    base = np.random.default_rng(0).uniform(0.2, 0.4, n)
    differences = gain + np.tile([0.01, -0.01], n // 2) if gain else np.tile([0.1, -0.1], n // 2)
    return pd.concat([pd.DataFrame({"minority": "1 %", "repeat": range(n), "minority_recall": base}),
                      pd.DataFrame({"minority": "5 %", "repeat": range(n), "minority_recall": base + differences})])


def test_prediction_compared_with_what_the_run_measured(capsys):
    up = _experiment(0.3)
    assert exercises.check("01-4", "higher", experiment=up) == "correct"
    assert "higher" in capsys.readouterr().out
    assert exercises.check("01-4", " Lower ", experiment=up) == "wrong"
    out = capsys.readouterr().out
    assert "you predicted 'lower'" in out and "the run measured 'higher'" in out  # the hint says what was measured
    assert exercises.check("01-4", "lower", experiment=_experiment(-0.3)) == "correct"
    assert exercises.check("01-4", "same", experiment=_experiment(0.0)) == "correct"
    assert exercises.check("01-4", "more", experiment=up) == "wrong"
    assert "'higher', 'lower', 'same'" in capsys.readouterr().out
    assert exercises.check("01-4", None, experiment=up) == "not answered"
    verdict = exercises.paired_verdict(up, "5 %", "1 %", by="minority", pair="repeat", value="minority_recall")
    assert verdict.word == "higher" and "n = 8" in verdict.sentence


def test_grade_log_lines_and_bad_ids(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("LABKIT_GRADE_LOG", str(log))
    exercises.check("02-2", 1 / 3)
    exercises.check("02-2", 0.5)
    exercises.check("02-2", None)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["status"] for r in records] == ["correct", "wrong", "not answered"]
    assert all(set(r) == {"exercise", "status", "message"} and r["exercise"] == "02-2" for r in records)
    with pytest.raises(ValueError, match="exercise"):
        exercises.check("99-1", 1)
    with pytest.raises(ValueError, match="exercise"):
        exercises.check("answer", 1)


def test_opt_in_raise_for_nbgraders_autograder(monkeypatch):
    monkeypatch.setenv("LABKIT_EXERCISES_RAISE", "1")
    assert exercises.check("02-2", 1 / 3) == "correct"
    with pytest.raises(AssertionError, match="Not quite"):
        exercises.check("02-2", 0.5)


def test_status_displays_nothing_as_a_cells_last_value():
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(exercises.check("02-2", None))
    assert data == {}


# ------------------------------------------------------------------------- the source notebooks' cells
def _try_it_range(nb):
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "Try it" in c.source)
    end = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Summary"))
    return start, end


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_exercises_match_the_package(path):
    nb = nbformat.read(path, as_version=4)
    found = course.validate(nb, path.name)
    number = path.stem[:2]
    assert list(found) == exercises.exercise_ids(number), "every registered exercise has a check cell, and back"
    assert len(found) >= 3
    start, end = _try_it_range(nb)
    predictions = [e for e in found if exercises.get(e).choices]
    assert predictions, f"{path.name}: no 'predict, then run' exercise"
    for exercise, cells in found.items():
        assert start < min(cells.answer_cells) < cells.check_cell < end, f"{exercise} outside the Try it section"
    for exercise in predictions:
        cells = found[exercise]
        answer, check = min(cells.answer_cells), cells.check_cell
        experiment = [i for i, c in enumerate(nb.cells)
                      if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"{exercise}-experiment"]
        assert experiment and answer < experiment[0] < check, "the prediction is stored before the experiment runs"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_nbgrader_recognises_the_cells(path):
    utils = pytest.importorskip("nbgrader.utils")
    nb = nbformat.read(path, as_version=4)
    for exercise, cells in course.find_exercises(nb).items():
        check = nb.cells[cells.check_cell]
        assert utils.is_grade(check) and not utils.is_solution(check) and utils.is_locked(check)
        assert check.metadata["nbgrader"]["grade_id"] == exercise and check.metadata["nbgrader"]["points"] == 1
        for i in cells.answer_cells:
            assert utils.is_solution(nb.cells[i]) and not utils.is_grade(nb.cells[i])


# ------------------------------------------------------------------------------------------------ build
def _split_solutions(source):
    """(the non-blank lines between the solution markers, the source outside them)."""
    inside_lines, outside, inside = [], [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif inside:
            if line.strip():
                inside_lines.append(line.strip())
        else:
            outside.append(line)
    return inside_lines, "\n".join(outside)


def _assert_check_cell_reveals_nothing(source):
    tree = ast.parse(source)
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr), source
    call = tree.body[0].value
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "exercises.check", source
    exercise, answer = call.args
    assert isinstance(exercise, ast.Constant) and isinstance(answer, ast.Name), source
    for keyword in call.keywords:  # notebook variables only: no literal, no expression with a value in it
        assert not any(isinstance(node, ast.Constant) for node in ast.walk(keyword.value)), source


def test_student_versions_hold_no_solutions_and_no_expected_values(tmp_path):
    result = course.build(tmp_path, execute=False)
    assert result.used_nbgrader == course._has_nbgrader()
    assert [p.name for p in result.student] == [p.name for p in SOURCES]
    for source_path, student_path in zip(SOURCES, result.student, strict=True):
        source = nbformat.read(source_path, as_version=4)
        student = nbformat.read(student_path, as_version=4)
        text = "\n".join(c.source for c in student.cells)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        solutions = [line for c in source.cells for line in _split_solutions(c.source)[0]]
        assert solutions
        code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
        elsewhere = "\n".join(_split_solutions(c.source)[1] for c in source.cells if c.cell_type == "code")
        leaked = [line for line in solutions if line not in elsewhere and line in code]
        assert not leaked, f"{student_path.name}: solution lines in the student version: {leaked}"
        found = course.find_exercises(student)
        assert list(found) == exercises.exercise_ids(source_path.stem[:2])
        for cells in found.values():
            _assert_check_cell_reveals_nothing(student.cells[cells.check_cell].source)
            answer = student.cells[min(cells.answer_cells)].source
            assert "# YOUR CODE HERE" in answer and ("answer_" in answer or "prediction_" in answer)
            assert "= None" in answer  # the learner's variable exists before they write anything
        assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
        instructor = nbformat.read(tmp_path / "instructor" / source_path.name, as_version=4)
        assert [c.source for c in instructor.cells] == [c.source for c in source.cells]
    readme = result.readme.read_text()
    assert "## Install" in readme and "jupyter lab student/" in readme
    for path in SOURCES:
        assert f"`{path.name}`" in readme
    assert readme.count("*predict, then run:*") >= len(SOURCES)


def test_local_marker_preprocessor_matches_nbgrader():
    pytest.importorskip("nbgrader")
    for path in SOURCES:
        nb = nbformat.read(path, as_version=4)
        ours = course.student_version(nb, use_nbgrader=False)
        theirs = course.student_version(nb, use_nbgrader=True)
        assert [c.source for c in ours.cells] == [c.source for c in theirs.cells]


def test_local_marker_preprocessor_rejects_unmarked_solutions():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = None\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")]
    with pytest.raises(ValueError, match="not marked as a solution cell"):
        course.student_version(nb, use_nbgrader=False)


def _cell(source, grade_id=None, *, solution=False):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": not solution, "solution": solution, "grade_id": grade_id,
                                     "locked": not solution, "schema_version": 3,
                                     **({} if solution else {"points": 1})}
    return cell


def test_build_executes_instructor_versions_with_html(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny\n\n**Question.** Is this tiny?"),
                nbformat.v4.new_code_cell("from labkit import exercises"),
                nbformat.v4.new_markdown_cell("## Try it\n\n**1.** What is 1/3?"),
                _cell("answer_2 = None\n### BEGIN SOLUTION\nanswer_2 = 1 / 3\n### END SOLUTION", "02-2-answer",
                      solution=True),
                _cell('exercises.check("02-2", answer_2)', "02-2")]
    nbformat.write(nb, src / "01_tiny.ipynb")
    result = course.build(tmp_path / "out", profile="smoke", directory=src)
    assert not result.failures
    executed = nbformat.read(tmp_path / "out" / "instructor" / "01_tiny.ipynb", as_version=4)
    assert "Correct" in executed.cells[-1].outputs[0]["text"]
    assert (tmp_path / "out" / "instructor" / "01_tiny.html").is_file()
    student = (tmp_path / "out" / "student" / "01_tiny.ipynb").read_text()
    assert "1 / 3" not in student and "# YOUR CODE HERE" in student
    assert "Is this tiny?" in result.readme.read_text()


# ---------------------------------------------------------------------------------------------- grading
def _submission(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell("from labkit import exercises"), *cells]
    nbformat.write(nb, path)
    return path


def test_grading_wrong_raising_and_endless_submissions_in_one_run(tmp_path):
    wrong = _submission(tmp_path / "wrong.ipynb", [
        _cell("answer_1 = None\n# YOUR CODE HERE\nanswer_1 = 0.5", "02-1-answer", solution=True),
        _cell('exercises.check("02-1", answer_1)', "02-1"),
    ])
    raises = _submission(tmp_path / "raises.ipynb", [   # no nbgrader metadata: found from the check calls
        _cell("answer_1 = None\nanswer_1 = 1 / 0"),
        _cell('exercises.check("02-1", answer_1)'),
        _cell("answer_2 = 1 / 3"),                    # a later exercise still runs and counts
        _cell('exercises.check("02-2", answer_2)'),
    ])
    loops = _submission(tmp_path / "loops.ipynb", [
        _cell("answer_2 = None\nwhile True:\n    pass", "02-2-answer", solution=True),
        _cell('exercises.check("02-2", answer_2)', "02-2"),
        _cell("answer_1 = 0.7", "02-1-answer", solution=True),
        _cell('exercises.check("02-1", answer_1)', "02-1"),
    ])
    scores = tmp_path / "scores.csv"
    assert cli.main(["course", "grade", str(wrong), str(raises), str(loops), "--csv", str(scores),
                     "--timeout", "20"]) == 0
    with open(scores, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["notebook", "exercise", "status", "message"]
    got = {(r["notebook"].rsplit("/", 1)[-1], r["exercise"]): (r["status"], r["message"]) for r in rows}
    assert got[("wrong.ipynb", "02-1")][0] == "wrong" and "Not quite" in got[("wrong.ipynb", "02-1")][1]
    assert got[("raises.ipynb", "02-1")] == ("error", "the answer cell raised ZeroDivisionError: division by zero")
    assert got[("raises.ipynb", "02-2")][0] == "correct"
    assert got[("loops.ipynb", "02-2")] == ("error", "timeout after 20 s")
    assert got[("loops.ipynb", "02-1")] == ("error", "timeout after 20 s")  # never reached
    assert len(rows) == 5


@pytest.mark.notebook
def test_build_then_grade_student_and_instructor_versions(tmp_path, capsys):
    """Real notebooks (the two fastest): students get 'not answered' everywhere, the solutions 'correct'."""
    out = tmp_path / "course"
    assert cli.main(["course", "build", "--out", str(out), "--no-execute", "01", "04"]) == 0
    student = sorted((out / "student").glob("*.ipynb"))
    instructor = sorted((out / "instructor").glob("*.ipynb"))
    assert [p.stem[:2] for p in student] == ["01", "04"]
    capsys.readouterr()
    results = course.grade([*student, *instructor], profile="smoke", timeout=300, csv_path=tmp_path / "s.csv",
                           echo=print)
    printed = capsys.readouterr().out
    assert printed.count("exercises:") == 4
    for graded in results:
        ids = [r["exercise"] for r in graded.rows]
        assert ids == exercises.exercise_ids(graded.notebook.rsplit("/", 1)[-1][:2])
        expected = "not answered" if "/student/" in graded.notebook else "correct"
        assert {r["status"] for r in graded.rows} == {expected}, graded.rows
        assert not graded.cell_errors and graded.problem is None, graded.summary()  # runs top to bottom
    assert len(pd.read_csv(tmp_path / "s.csv")) == 16
