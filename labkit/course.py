"""Course edition: student and instructor notebooks from one source, and grading of submissions.

The source notebooks carry nbgrader's conventions, so an instructor who knows nbgrader can also use it
directly:

* an **answer cell** (nbgrader ``solution: true``) holds the reference solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, after an ``answer_N = None`` line that stays;
* a **check cell** (nbgrader ``grade: true``, ``grade_id`` = the exercise id) calls
  ``exercises.check("01-1", answer_1, y_test=y_test)``; the expected value lives in
  ``labkit/exercises/nbNN.py``, never in the notebook.

:func:`build` writes ``student/`` (solutions replaced by ``# YOUR CODE HERE`` with nbgrader's own
``ClearSolutions``, outputs cleared), ``instructor/`` (solutions kept, executed, with an HTML copy) and a
student ``README.md``. :func:`grade` executes submissions with a time limit each and collects every
check's status from ``$LABKIT_GRADE_LOG``.
"""

from __future__ import annotations

import ast
import copy
import csv
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from labkit.core import PROFILES

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE"
GRADE_STATUSES = ("correct", "wrong", "not answered", "error")
CSV_COLUMNS = ("notebook", "exercise", "status", "message")
_ID = re.compile(r"^\d\d-\d+$")
_CHECK_CALL = re.compile(r"""check\(\s*["'](\d\d-\d+)["']""")


# --------------------------------------------------------------------------------------------------
# finding the exercises in a notebook
# --------------------------------------------------------------------------------------------------

@dataclass
class ExerciseCells:
    """Where one exercise lives in a notebook: its check cell and the answer cells it depends on."""

    exercise: str
    check_cell: int | None = None
    answer_cells: list[int] = field(default_factory=list)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _check_calls(source: str) -> list[tuple[str, str | None]]:
    """``(exercise id, answer variable)`` for every ``...check("NN-K", answer, ...)`` call in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a student's broken cell, or IPython syntax: fall back to the text
        return [(m, None) for m in _CHECK_CALL.findall(source)]
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        first = node.args[0]
        if name == "check" and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                and _ID.match(first.value):
            answer = node.args[1].id if len(node.args) > 1 and isinstance(node.args[1], ast.Name) else None
            calls.append((first.value, answer))
    return calls


def _assigns(source: str, name: str) -> bool:
    return re.search(rf"^\s*{re.escape(name)}\s*=", source, flags=re.MULTILINE) is not None


def find_exercises(nb) -> dict[str, ExerciseCells]:
    """The exercises of a notebook, by id, in order: from nbgrader ``grade_id`` metadata and ``check`` calls.

    A check cell is one marked ``grade: true`` or one calling ``check("NN-K", ...)``; its answer cells are
    the solution cells whose ``grade_id`` starts with ``"NN-K-"``, or else the last code cell before it
    that assigns the answer variable passed to ``check``.
    """
    from labkit._validation import check_notebook

    check_notebook(nb, "nb")
    found: dict[str, ExerciseCells] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        ids = []
        if meta.get("grade") and _ID.match(str(meta.get("grade_id", ""))):
            ids.append((meta["grade_id"], None))
        ids += _check_calls(cell.source)
        for exercise, answer in ids:
            entry = found.setdefault(exercise, ExerciseCells(exercise))
            if entry.check_cell is None:
                entry.check_cell = i
            if answer and not entry.answer_cells:
                for j in range(i - 1, -1, -1):
                    if nb.cells[j].cell_type == "code" and _assigns(nb.cells[j].source, answer):
                        entry.answer_cells.append(j)
                        break
    for i, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        gid = str(meta.get("grade_id", ""))
        if meta.get("solution") and "-" in gid:
            exercise = gid.rsplit("-", 1)[0]
            if exercise in found and i not in found[exercise].answer_cells:
                found[exercise].answer_cells.append(i)
    return dict(sorted(found.items(), key=lambda kv: _exercise_order(kv[0])))


def _exercise_order(exercise: str) -> tuple[int, int]:
    a, b = exercise.split("-")
    return int(a), int(b)


# --------------------------------------------------------------------------------------------------
# student and instructor versions
# --------------------------------------------------------------------------------------------------

def _has_nbgrader() -> bool:
    try:
        import nbgrader.preprocessors  # noqa: F401
    except ImportError:
        return False
    return True


def _clear_solutions_locally(nb) -> None:
    """The same markers as nbgrader's ``ClearSolutions``: each solution region becomes the stub."""
    for cell in nb.cells:
        if cell.cell_type != "code" or BEGIN_SOLUTION not in cell.source:
            continue
        if not _nbgrader(cell).get("solution"):
            raise ValueError("solution region detected in a cell not marked as a solution cell "
                             f"(nbgrader metadata solution: true):\n{cell.source}")
        lines, inside = [], False
        for line in cell.source.split("\n"):
            if BEGIN_SOLUTION in line:
                if inside:
                    raise ValueError(f"nested {BEGIN_SOLUTION!r} in cell:\n{cell.source}")
                inside = True
                lines.append(line[: len(line) - len(line.lstrip())] + CODE_STUB)
            elif END_SOLUTION in line:
                inside = False
            elif not inside:
                lines.append(line)
        if inside:
            raise ValueError(f"no {END_SOLUTION!r} in cell:\n{cell.source}")
        cell.source = "\n".join(lines)


def _clear_outputs(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None


def student_version(nb, *, use_nbgrader: bool | None = None):
    """A copy of ``nb`` with every solution region replaced by ``# YOUR CODE HERE`` and no outputs.

    Uses nbgrader's ``ClearSolutions`` and ``ClearOutput`` preprocessors when nbgrader is installed (the
    ``course`` extra), else a local equivalent that honours the same markers.
    """
    from labkit._validation import check_bool, check_notebook

    check_notebook(nb, "nb")
    if use_nbgrader is not None:
        check_bool(use_nbgrader, "use_nbgrader")
    nb = copy.deepcopy(nb)
    if use_nbgrader is None:
        use_nbgrader = _has_nbgrader()
    if use_nbgrader:
        from nbgrader.preprocessors import ClearOutput, ClearSolutions

        resources: dict = {}
        nb, resources = ClearSolutions(code_stub={"python": CODE_STUB}).preprocess(nb, resources)
        nb, resources = ClearOutput().preprocess(nb, resources)
    else:
        _clear_solutions_locally(nb)
        _clear_outputs(nb)
    return nb


def instructor_version(nb):
    """A copy of ``nb`` with outputs cleared and solutions kept."""
    from labkit._validation import check_notebook

    check_notebook(nb, "nb")
    nb = copy.deepcopy(nb)
    _clear_outputs(nb)
    return nb


def validate(nb, name: str = "notebook") -> dict[str, ExerciseCells]:
    """Check a source notebook's exercises: every check id is registered and has an answer cell with a solution."""
    from labkit._validation import check_notebook

    check_notebook(nb, "nb")
    from labkit import exercises

    found = find_exercises(nb)
    for exercise, cells in found.items():
        exercises.get(exercise)  # raises ValueError for an unregistered id
        if not cells.answer_cells:
            raise ValueError(f"{name}: exercise {exercise} has a check cell but no answer cell")
        if not any(BEGIN_SOLUTION in nb.cells[i].source for i in cells.answer_cells):
            raise ValueError(f"{name}: exercise {exercise} has no {BEGIN_SOLUTION!r} region in its answer cell")
    if _has_nbgrader():
        from nbgrader.nbgraderformat import MetadataValidator

        MetadataValidator().validate_nb(nb)
    return found


@dataclass
class BuildResult:
    out_dir: Path
    student: list[Path]
    instructor: list[Path]
    html: list[Path]
    readme: Path
    failures: dict[str, str]
    used_nbgrader: bool


def build(out_dir: str | os.PathLike, *, profile: str = "quick", notebooks=None,
          directory: str | os.PathLike | None = None, execute: bool = True) -> BuildResult:
    """Write ``out_dir/student/``, ``out_dir/instructor/`` (executed in ``profile``, plus HTML) and ``README.md``.

    ``notebooks``: names/numbers to include (default: all); ``directory``: the source notebooks' folder.
    ``execute=False`` skips running the instructor versions. A notebook that fails to execute is still
    written (with its error), and listed in ``BuildResult.failures``.
    """
    import nbformat

    from labkit import notebook

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    paths = ([notebook.resolve_notebook(n, directory) for n in notebooks] if notebooks
             else notebook.list_notebooks(directory))
    if not paths:
        raise ValueError(f"no notebooks found in {directory!r}")
    out = Path(out_dir)
    student_dir, instructor_dir = out / "student", out / "instructor"
    student_dir.mkdir(parents=True, exist_ok=True)
    instructor_dir.mkdir(parents=True, exist_ok=True)
    used_nbgrader = _has_nbgrader()
    source_dir = paths[0].parent
    for page in sorted(source_dir.glob("*.md")):  # the errata, sources and glossary pages the notebooks link
        for folder in (student_dir, instructor_dir):
            shutil.copyfile(page, folder / page.name)
    students, instructors, pages, failures, described = [], [], [], {}, []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        found = validate(nb, path.name)
        student = student_dir / path.name
        nbformat.write(student_version(nb, use_nbgrader=used_nbgrader), student)
        students.append(student)
        instructor = instructor_dir / path.name
        nbformat.write(instructor_version(nb), instructor)
        instructors.append(instructor)
        if execute:
            result = notebook.run(instructor, profile=profile, out_dir=instructor_dir)
            pages.append(result.html)
            if result.error:
                failures[path.name] = result.error
        described.append(_describe(nb, path, found))
    readme = out / "README.md"
    readme.write_text(_student_readme(described), encoding="utf-8")
    return BuildResult(out, students, instructors, pages, readme, failures, used_nbgrader)


def _describe(nb, path: Path, found: dict[str, ExerciseCells]) -> dict:
    title, question = path.stem, ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# ") and title == path.stem:
                title = line.lstrip("#").strip()
        match = re.search(r"\*\*Question\.\*\*\s*(.+?)(?:\n\s*\n|$)", cell.source, flags=re.DOTALL)
        if match and not question:
            question = " ".join(match.group(1).split())
    tasks = []
    for exercise, cells in found.items():
        first = min(cells.answer_cells) if cells.answer_cells else cells.check_cell
        prompt = ""
        for j in range(first - 1, -1, -1):
            if nb.cells[j].cell_type == "markdown":
                paragraphs = [p for p in re.split(r"\n\s*\n", nb.cells[j].source) if p.lstrip().startswith("**")]
                prompt = " ".join((paragraphs[-1] if paragraphs else nb.cells[j].source).split())
                break
        predict = "predict, then run" in prompt[:60].lower()
        sentences = re.split(r"(?<=[.?!])\s+", re.sub(r"^\*\*[^*]+\*\*\s*", "", prompt))
        asks = next((k for k, sentence in enumerate(sentences[:4]) if "?" in sentence), 1)
        short = " ".join(sentences[:asks + 1])
        tasks.append((exercise, ("*predict, then run:* " if predict else "") + short))
    return {"file": path.name, "title": title, "question": question, "tasks": tasks}


def _student_readme(described: list[dict]) -> str:
    lines = [
        "# labkit — notebooks for students",
        "",
        "Six notebooks on choosing, balancing and reusing training data. Each one asks a question, runs the",
        "experiment that answers it, and ends with **Try it** exercises that you solve in the notebook.",
        "",
        "## Install (once)",
        "",
        "You need Python 3.10 or newer and the labkit project folder your instructor pointed you to. In a",
        "terminal, inside that folder:",
        "",
        "```bash",
        "python -m venv .venv",
        ".venv/bin/pip install -e .        # Windows: .venv\\Scripts\\pip install -e .",
        "```",
        "",
        "or, with conda: `conda env create -f environment.yml && conda activate labkit`.",
        "The first install downloads PyTorch (a few GB).",
        "",
        "## Open",
        "",
        "```bash",
        ".venv/bin/jupyter lab student/",
        "```",
        "",
        "Open a notebook and run it from the top (*Run ▸ Run All Cells*): the experiments take about a minute",
        "each on a laptop. Then read it from the top, and do its exercises at the end.",
        "",
        "## The exercises",
        "",
        "Each exercise has an **answer cell** that starts with `answer_N = None` (or `prediction_N = None`) and",
        "a line `# YOUR CODE HERE`: replace it with code that sets `answer_N`. The **check cell** under it",
        "prints *Correct*, *Not quite* with a hint, or *Not answered yet* — it never stops the notebook.",
        "",
        "* **Compute your answers from the notebook's variables** (for example `summary[\"minority_f1\"]`) instead",
        "  of typing a number you read off a table: your notebook is run again for grading, with smaller",
        "  settings, where the numbers differ.",
        "* **Predict, then run:** exercise 4 of each notebook asks you to store a prediction — `\"higher\"`,",
        "  `\"lower\"` or `\"same\"` — *before* you run a small experiment. The check compares your prediction",
        "  with what the experiment measured. A wrong prediction is how you learn something: keep it honest.",
        "",
        "## Hand in",
        "",
        "Save each notebook under its own name and hand in the `.ipynb` files. Before you do, run",
        "*Kernel ▸ Restart Kernel and Run All Cells*: the notebook must run from top to bottom, because that is",
        "how it is graded. A cell that raises an error or never finishes costs the exercises after it.",
        "",
        "## What each notebook asks",
        "",
    ]
    for d in described:
        lines += [f"### {d['title']}", "", f"`{d['file']}`" + (f" — {d['question']}" if d["question"] else ""), ""]
        if d["tasks"]:
            lines += [f"{len(d['tasks'])} exercises:", ""]
            lines += [f"{k}. {task}" for k, (_, task) in enumerate(d["tasks"], 1)]
            lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# grading
# --------------------------------------------------------------------------------------------------

@dataclass
class GradedNotebook:
    """One submission's grades: ``rows`` of (notebook, exercise, status, message), and how its run went."""

    notebook: str
    rows: list[dict]
    seconds: float
    problem: str | None = None
    cell_errors: list[str] = field(default_factory=list)  # "cell N: Error: message" for each cell that raised

    def counts(self) -> dict[str, int]:
        return {s: sum(r["status"] == s for r in self.rows) for s in GRADE_STATUSES}

    def summary(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[s]} {s}" for s in GRADE_STATUSES)
        extra = f"; {self.problem}" if self.problem else ""
        if self.cell_errors:
            extra += f"; {len(self.cell_errors)} cell(s) raised, first: {self.cell_errors[0]}"
        return f"{self.notebook}: {len(self.rows)} exercises: {parts} ({self.seconds:.0f} s{extra})"


def _grading_env(profile: str, log: Path) -> dict[str, str]:
    from labkit.exercises import GRADE_LOG_ENV, RAISE_ENV
    from labkit.notebook import _kernel_env as kernel_env

    return kernel_env(profile, {GRADE_LOG_ENV: str(log), "LABKIT_STRICT": "0"}, drop=(RAISE_ENV,))


def _execute(nb, *, cwd: Path, timeout: float, env: dict[str, str]) -> str | None:
    """Run ``nb`` in place, errors allowed, within ``timeout`` seconds in all. Returns what stopped it, if anything."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from labkit.notebook import _execute_in_place

    try:
        _execute_in_place(nb, cwd, env=env, total_timeout=timeout, allow_errors=True)
    except CellTimeoutError:
        return f"timeout after {timeout:g} s"
    except DeadKernelError as err:
        return f"the kernel died ({err})"
    except Exception as err:  # a submission must never stop the grading of the others
        return f"{type(err).__name__}: {err}"
    return None


def _error_text(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return None


def _source_notebook(path: Path, directory) -> Path | None:
    from labkit import notebook

    try:
        candidates = notebook.list_notebooks(directory)
    except ValueError:
        return None
    for nb in candidates:
        if nb.stem == path.stem:
            return nb
    for nb in candidates:
        if nb.stem in path.stem:
            return nb
    return None


def grade_notebook(path: str | os.PathLike, *, profile: str = "smoke", timeout: float = 300,
                   directory: str | os.PathLike | None = None) -> GradedNotebook:
    """Execute one submission (errors allowed, ``timeout`` seconds in all) and grade each of its exercises.

    Expected exercises come from the submission's check cells and from the source notebook of the same
    name in ``directory`` (default: the checkout's ``notebooks/``). An exercise whose answer cell raised,
    whose check cell raised or never ran (a timeout, a dead kernel) is ``error``.
    """
    import nbformat

    path = Path(path)
    start = time.perf_counter()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        return GradedNotebook(str(path), [], time.perf_counter() - start, f"unreadable: {err}")
    expected = list(find_exercises(nb))
    source = _source_notebook(path, directory)
    if source is not None:
        expected += [e for e in find_exercises(nbformat.read(source, as_version=4)) if e not in expected]
    with tempfile.TemporaryDirectory(prefix="labkit-grade-log-") as tmp:
        log = Path(tmp) / "grades.jsonl"
        log.touch()
        stopped = _execute(nb, cwd=path.parent.resolve(), timeout=timeout,
                           env=_grading_env(profile, log))
        records = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                records[str(record["exercise"])] = record  # the last run of a check counts
            except (ValueError, KeyError, TypeError):
                continue
    cells = find_exercises(nb)
    rows = []
    for exercise in sorted(expected, key=_exercise_order):
        where = cells.get(exercise)
        answer_error = next((e for i in (where.answer_cells if where else []) if (e := _error_text(nb.cells[i]))),
                            None)
        if answer_error:
            status, message = "error", f"the answer cell raised {answer_error}"
        elif exercise in records:
            status = records[exercise].get("status", "error")
            status = status if status in GRADE_STATUSES else "error"
            message = str(records[exercise].get("message", ""))
        else:
            status = "error"
            check_error = _error_text(nb.cells[where.check_cell]) if where and where.check_cell is not None else None
            if check_error:
                message = f"the check cell raised {check_error}"
            elif stopped:
                message = stopped
            elif where is None:
                message = "no check cell for this exercise in the submission"
            else:
                message = "the check cell did not run"
        rows.append({"notebook": str(path), "exercise": exercise, "status": status, "message": message})
    raised = [f"cell {i}: {e}" for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (e := _error_text(cell))]
    return GradedNotebook(str(path), rows, time.perf_counter() - start, stopped, raised)


def grade(paths, *, profile: str = "smoke", timeout: float = 300, csv_path: str | os.PathLike | None = None,
          directory: str | os.PathLike | None = None, echo=None) -> list[GradedNotebook]:
    """Grade every submission in ``paths`` (one after another) and write ``csv_path`` if given.

    ``echo``: called with each notebook's one-line summary as soon as it is graded (e.g. ``print``).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("paths: give at least one submission (.ipynb)")
    results = []
    for path in paths:
        graded = grade_notebook(path, profile=profile, timeout=timeout, directory=directory)
        results.append(graded)
        if echo is not None:
            echo(graded.summary())
    if csv_path is not None:
        write_csv(results, csv_path)
    return results


def write_csv(results: list[GradedNotebook], path: str | os.PathLike) -> Path:
    """One row per (notebook, exercise): ``notebook, exercise, status, message``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for graded in results:
            writer.writerows(graded.rows)
    return path
