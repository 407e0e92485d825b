"""A notebook's parameters: read them from its ``parameters`` cell, parse ``-p NAME=VALUE``, inject values.

Parameters are the UPPER_CASE names assigned in the cell tagged ``parameters`` (papermill's convention).
Values given on the command line are injected in a new cell tagged ``injected-parameters`` right after it,
so a run without ``-p`` executes exactly the committed notebook. ``PROFILE`` is not a parameter: sizes are
derived from it inside the cell, so it is chosen with ``--profile`` (``LABKIT_PROFILE``) instead.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_NOT_PARAMETERS = {"PROFILE": "PROFILE is chosen with --profile (LABKIT_PROFILE), not with -p"}
UNKNOWN = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()  # a value only running the cell gives


@dataclass(frozen=True)
class Parameter:
    """One parameter: its ``name``, its ``default`` (the source expression) and its ``comment``."""

    name: str
    default: str
    comment: str = ""

    def value_in(self, profile: str) -> Any:
        """The default's value in ``profile`` when it can be read without running code — a literal, or a
        literal table indexed by ``PROFILE`` such as ``{"smoke": 3, "quick": 20}[PROFILE]`` — else ``UNKNOWN``."""
        try:
            tree = ast.parse(self.default, mode="eval").body
        except SyntaxError:
            return UNKNOWN
        if (isinstance(tree, ast.Subscript) and isinstance(tree.slice, ast.Name)
                and tree.slice.id == "PROFILE" and isinstance(tree.value, ast.Dict)):
            try:
                return ast.literal_eval(tree.value).get(profile, UNKNOWN)
            except (ValueError, SyntaxError, TypeError):
                return UNKNOWN
        try:
            return ast.literal_eval(tree)
        except (ValueError, SyntaxError, TypeError):
            return UNKNOWN


def _read(nb_or_path, name: str = "nb_or_path"):
    from labkit._validation import read_notebook

    return read_notebook(nb_or_path, name)


def parameters_cell(nb_or_path):
    """The cell tagged ``parameters`` (None when the notebook has none)."""
    nb = _read(nb_or_path)
    for cell in nb.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number (1-based) of ``source``."""
    found = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                found[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def parse_parameters(source: str) -> list[Parameter]:
    """The parameters assigned at the top level of ``source`` (a parameters cell), in order.

    A parameter's comment is the one trailing its statement (on any of its lines); failing that, the comment
    lines directly above it. ``A, B = 1, 2`` gives two parameters; ``PROFILE`` is left out.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    comments = _comments(source)
    found: dict[str, Parameter] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        trailing = [comments[n] for n in range(stmt.lineno, stmt.end_lineno + 1)
                    if n in comments and not lines[n - 1].lstrip().startswith("#")]
        above = []
        n = stmt.lineno - 1
        while n >= 1 and lines[n - 1].lstrip().startswith("#"):
            above.insert(0, comments.get(n, lines[n - 1].lstrip().lstrip("#").strip()))
            n -= 1
        comment = " ".join(trailing) if trailing else " ".join(above)
        default = ast.get_source_segment(source, value) or ast.unparse(value)
        for target in targets:
            if isinstance(target, ast.Name):
                pairs = [(target.id, default)]
            elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
                if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
                    pairs = [(e.id, ast.get_source_segment(source, v) or ast.unparse(v))
                             for e, v in zip(target.elts, value.elts, strict=True)]
                else:
                    pairs = [(e.id, f"({default})[{i}]") for i, e in enumerate(target.elts)]
            else:
                continue
            for name, expr in pairs:
                if _NAME.match(name) and name not in _NOT_PARAMETERS:
                    found[name] = Parameter(name, expr, comment)
    return list(found.values())


def notebook_parameters(nb_or_path) -> list[Parameter]:
    """The parameters of a notebook (a path or a NotebookNode); empty when it has no ``parameters`` cell."""
    cell = parameters_cell(nb_or_path)
    return parse_parameters(cell.source) if cell is not None else []


def parse_value(text: str) -> Any:
    """A command-line value: a Python literal (``5``, ``0.1``, ``True``, ``[1, 2]``, ``'x'``, ``None``)
    when it reads as one, otherwise the text itself as a string (a bare path or word)."""
    if not isinstance(text, str):
        raise TypeError(f"value must be a str, got {text!r}")
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_assignments(items) -> dict[str, Any]:
    """``["NAME=VALUE", ...]`` (the ``-p`` options) as a dict; a later NAME wins."""
    values: dict[str, Any] = {}
    for item in items or ():
        if not isinstance(item, str) or "=" not in item:
            raise ValueError(f"-p expects NAME=VALUE, got {item!r}")
        name, _, text = item.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise ValueError(f"-p expects NAME=VALUE with a Python name, got {item!r}")
        values[name] = parse_value(text)
    return values


def check_names(values: dict[str, Any], params: list[Parameter], notebook: str = "the notebook") -> None:
    """``ValueError`` for a name that is not a parameter, listing the notebook's parameters."""
    known = [p.name for p in params]
    for name in values:
        if name in _NOT_PARAMETERS:
            raise ValueError(f"-p {name}: {_NOT_PARAMETERS[name]}")
        if name not in known:
            listing = ", ".join(known) if known else "(none: it has no parameters cell)"
            raise ValueError(f"unknown parameter {name!r} for {notebook}; its parameters are: {listing}")


def inject(nb, values: dict[str, Any], *, notebook: str = "the notebook"):
    """A copy of ``nb`` with ``values`` assigned in a cell tagged ``injected-parameters`` after the
    ``parameters`` cell (papermill's ``parameterize_notebook``); ``nb`` itself is unchanged.

    Every name must be a parameter of the notebook (``ValueError`` listing them otherwise). With no values
    the notebook is returned as is (a copy).
    """
    import copy

    from labkit._validation import check_notebook

    check_notebook(nb, "nb")
    if not values:
        return copy.deepcopy(nb)
    check_names(values, notebook_parameters(nb), notebook)
    from papermill.parameterize import parameterize_notebook

    # papermill expects what its loader adds: a tags list on every cell and a papermill metadata entry
    nb = copy.deepcopy(nb)
    untagged = [cell for cell in nb.cells if "tags" not in cell.metadata]
    for cell in untagged:
        cell.metadata["tags"] = []
    nb.metadata.setdefault("papermill", {})
    out = parameterize_notebook(nb, dict(values), kernel_name="python3", language="python")
    added = {id(cell) for cell in untagged}
    for cell in out.cells:  # parameterize_notebook keeps the cell objects of its (deep-copied) input
        if id(cell) in added and not cell.metadata.get("tags"):
            del cell.metadata["tags"]
    return out
