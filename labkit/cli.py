"""The ``labkit`` command: list, run and report the notebooks headless; ``bench`` prints measured ratios."""

from __future__ import annotations

import argparse
import os
import sys

from labkit.core import PROFILES

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
    run.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)
    rep = sub.add_parser("report", help="execute every notebook; write OUT/index.html")
    rep.add_argument("--profile", choices=PROFILES, default="quick")
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument("--cluster", metavar="ADDRESS", help=CLUSTER_HELP)
    rep.add_argument("notebooks", nargs="*", help="only these notebooks (default: all)")
    bench = sub.add_parser("bench", help="run the benchmarks; print 'name: value' lines")
    bench.add_argument("names", nargs="*", help="only these benchmarks (default: all)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "cluster", None):  # the kernels inherit it; labkit.parallel reads it
        from labkit import parallel

        try:
            os.environ[parallel.ENV] = parallel.check_cluster(args.cluster, name="--cluster")
            parallel.require_distributed("--cluster")
        except (ValueError, ImportError) as err:
            parser.error(str(err))
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
    if args.command == "bench":
        from labkit import bench

        return bench.main(args.names)
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
