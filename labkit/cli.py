"""The ``labkit`` command: list, run and report the notebooks headless; ``bench`` prints measured ratios."""

from __future__ import annotations

import argparse
import sys

from labkit.core import PROFILES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the notebooks")
    run = sub.add_parser("run", help="execute one notebook headless; write it executed and as HTML")
    run.add_argument("notebook", help="path, name, stem or number (e.g. 01)")
    run.add_argument("--profile", choices=PROFILES, default="quick")
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep = sub.add_parser("report", help="execute every notebook; write OUT/index.html")
    rep.add_argument("--profile", choices=PROFILES, default="quick")
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument("notebooks", nargs="*", help="only these notebooks (default: all)")
    bench = sub.add_parser("bench", help="run the benchmarks; print 'name: value' lines")
    bench.add_argument("names", nargs="*", help="only these benchmarks (default: all)")
    _add_course_parser(sub)
    return p


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
    args = _parser().parse_args(argv)
    from labkit import notebook

    if args.command == "list":
        for path in notebook.list_notebooks():
            print(f"{path.stem}\t{notebook._title(path)}")
        return 0
    if args.command == "run":
        result = notebook.run(args.notebook, profile=args.profile, out_dir=args.out)
        print(f"{result.notebook.name}: {result.seconds:.1f} s -> {result.html}")
        if result.error:
            print(f"FAILED: {result.error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "report":
        index, results = notebook.report(profile=args.profile, out_dir=args.out,
                                         notebooks=args.notebooks or None)
        for r in results:
            print(f"{r.notebook.name}: {r.seconds:.1f} s {'ok' if r.error is None else 'FAILED: ' + r.error}")
        print(f"report: {index}")
        return 1 if any(r.error for r in results) else 0
    if args.command == "course":
        return _course_main(args)
    if args.command == "bench":
        from labkit import bench

        return bench.main(args.names)
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
