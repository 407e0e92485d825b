"""The ``labkit`` command: list, run and report the notebooks headless; ``bench`` prints measured ratios."""

from __future__ import annotations

import argparse
import sys

from labkit.core import PROFILES

PARAM_HELP = "set a parameter of the notebook's parameters cell (repeatable); VALUE is read as a Python " \
             "literal, otherwise as a string (a path or a word); see `labkit params NOTEBOOK`"


def _add_param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help=PARAM_HELP)

CLUSTER_HELP = ("run the notebooks' sweeps on a Dask cluster: 'local' or tcp://HOST:PORT (sets LABKIT_CLUSTER; "
                "needs pip install 'labkit[cluster]')")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the notebooks")
    run = sub.add_parser("run", help="execute one notebook headless; write it executed and as HTML")
    run.add_argument("notebook", help="path, name, stem or number (e.g. 01)")
    run.add_argument("--profile", choices=PROFILES, default="quick")
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    _add_param_option(run)
    run.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)
    rep = sub.add_parser("report", help="execute every notebook; write OUT/index.html")
    rep.add_argument("--profile", choices=PROFILES, default="quick")
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    _add_param_option(rep)
    rep.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)
    rep.add_argument("notebooks", nargs="*", help="only these notebooks (default: all)")
    bench = sub.add_parser("bench", help="run the benchmarks; print 'name: value' lines")
    bench.add_argument("names", nargs="*", help="only these benchmarks (default: all)")
    readme = sub.add_parser("readme", help="write a recorded run's figures into the README's results section")
    readme.add_argument("--out", default="reports", help="the report folder of the run (default: reports)")
    readme.add_argument("--readme", default=None, help="the README to update (default: the checkout's)")
    _add_params_parser(sub)
    _add_app_parser(sub)
    _add_course_parser(sub)
    return p


# ------------------------------------------------------------------------------------ labkit params


def _add_params_parser(sub) -> None:
    params = sub.add_parser("params", help="list a notebook's parameters (set them with -p NAME=VALUE)")
    params.add_argument("notebook", help="path, name, stem or number (e.g. 01)")
    params.add_argument("--profile", choices=PROFILES, default="quick",
                        help="show the values this profile gives (default: quick)")


def _params(args) -> int:
    from labkit import notebook, parameters

    path = notebook.resolve_notebook(args.notebook)
    found = parameters.notebook_parameters(path)
    if not found:
        print(f"{path.stem} has no parameters cell")
        return 0
    print(f"{path.stem}: {len(found)} parameters; set them with labkit run {path.stem[:2]} -p NAME=VALUE")
    for p in found:
        default = " ".join(p.default.split())
        value = p.value_in(args.profile)
        per_profile = value is not parameters.UNKNOWN and "PROFILE" in default
        shown = f"   -> {value!r} in {args.profile}" if per_profile else ""
        print(f"  {p.name} = {default}{shown}")
        if p.comment:
            print(f"      {p.comment}")
    return 0


# ------------------------------------------------------------------------------------ labkit app


def _add_app_parser(sub) -> None:
    app = sub.add_parser("app", help="serve one notebook with Voilà on 127.0.0.1: code hidden, widgets live "
                                     "(needs: pip install 'labkit[app]')")
    app.add_argument("notebook", help="path, name, stem or number (e.g. 01)")
    app.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    app.add_argument("--profile", choices=PROFILES, default="quick")
    app.add_argument("--no-browser", action="store_true", help="do not open a browser")
    _add_param_option(app)


def _app(args) -> int:
    from labkit import app, parameters

    try:
        return app.serve(args.notebook, profile=args.profile, port=args.port, open_browser=not args.no_browser,
                         parameters=parameters.parse_assignments(args.param))
    except app.AppUnavailable as err:
        print(f"labkit app: {err}", file=sys.stderr)
        return 1




# --- course: student/instructor notebooks and grading (labkit.course) -------------------------------
def _add_course_parser(sub) -> None:
    course = sub.add_parser("course", help="build student/instructor notebooks; grade submissions")
    csub = course.add_subparsers(dest="course_command", required=True)
    build = csub.add_parser("build", help="write OUT/student, OUT/instructor (executed, + HTML), OUT/README.md")
    build.add_argument("--out", required=True, help="output folder")
    build.add_argument("--profile", choices=PROFILES, default="quick",
                       help="profile the instructor versions are executed in (default: quick)")
    build.add_argument("--no-execute", action="store_true", help="do not execute the instructor versions")
    build.add_argument("notebooks", nargs="*", help="only these notebooks (default: all)")
    grade = csub.add_parser("grade", help="execute submissions and grade every exercise")
    grade.add_argument("submissions", nargs="+", help="submitted .ipynb files")
    grade.add_argument("--csv", help="write one row per (notebook, exercise) to this CSV file")
    grade.add_argument("--timeout", type=float, default=300.0,
                       help="seconds each submission may run in all (default: 300)")
    grade.add_argument("--profile", choices=PROFILES, default="smoke",
                       help="profile submissions are executed in (default: smoke)")


def _course_main(args) -> int:
    from labkit import course

    if args.course_command == "build":
        result = course.build(args.out, profile=args.profile, notebooks=args.notebooks or None,
                              execute=not args.no_execute)
        how = "nbgrader's ClearSolutions" if result.used_nbgrader else "labkit's marker preprocessor"
        print(f"student notebooks ({how}): {result.out_dir / 'student'}")
        print(f"instructor notebooks: {result.out_dir / 'instructor'}"
              + (f" (executed, {args.profile} profile, with HTML)" if not args.no_execute else ""))
        print(f"student README: {result.readme}")
        for name, error in result.failures.items():
            print(f"FAILED: {name}: {error}", file=sys.stderr)
        return 1 if result.failures else 0
    results = course.grade(args.submissions, profile=args.profile, timeout=args.timeout, csv_path=args.csv,
                           echo=print)
    total = [r for g in results for r in g.rows]
    counts = ", ".join(f"{sum(r['status'] == s for r in total)} {s}" for s in course.GRADE_STATUSES)
    print(f"{len(results)} notebook(s), {len(total)} exercises: {counts}"
          + (f"; scores: {args.csv}" if args.csv else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.kernel_env = {}
    if getattr(args, "cluster", None):  # the kernels get LABKIT_CLUSTER; labkit.parallel reads it there
        from labkit import parallel

        try:
            args.kernel_env[parallel.ENV] = parallel.check_cluster(args.cluster, name="--cluster")
            parallel.require_distributed("--cluster")
        except (ValueError, ImportError) as err:
            parser.error(str(err))
    try:
        return _dispatch(args)
    except ValueError as err:  # bad input (unknown notebook or parameter, bad -p): one line, no traceback
        print(f"labkit {args.command}: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    from labkit import notebook, parameters

    if args.command == "list":
        for path in notebook.list_notebooks():
            print(f"{path.stem}\t{notebook._title(path)}")
        return 0
    if args.command == "run":
        result = notebook.run(args.notebook, profile=args.profile, out_dir=args.out,
                              parameters=parameters.parse_assignments(args.param), env=args.kernel_env)
        print(f"{result.notebook.name}: {result.seconds:.1f} s -> {result.html}")
        if result.error:
            print(f"FAILED: {result.error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "report":
        index, results = notebook.report(profile=args.profile, out_dir=args.out,
                                         notebooks=args.notebooks or None,
                                         parameters=parameters.parse_assignments(args.param),
                                         env=args.kernel_env)
        for r in results:
            print(f"{r.notebook.name}: {r.seconds:.1f} s {'ok' if r.error is None else 'FAILED: ' + r.error}")
        print(f"report: {index}")
        return 1 if any(r.error for r in results) else 0
    if args.command == "course":
        return _course_main(args)
    if args.command == "bench":
        from labkit import bench

        return bench.main(args.names)
    if args.command == "readme":
        from pathlib import Path

        from labkit import results

        readme = args.readme or Path(notebook.default_notebooks_dir()).parent / "README.md"
        print(results.update_readme(readme, args.out), end="")
        print(f"-> {readme}")
        return 0
    if args.command == "params":
        return _params(args)
    if args.command == "app":
        return _app(args)
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
