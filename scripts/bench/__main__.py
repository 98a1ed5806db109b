"""The prober's benchmarks, one step at a time (scripts/bench.sh runs them in order):

  python3 scripts/bench farm OUTDIR --prober PATH [--quick]
  python3 scripts/bench compare OUTDIR --prober PATH [--rounds N] [--copies K] [--hosts SPEC] ...
  python3 scripts/bench report OUTDIR --out docs/BENCHMARKS.md --svg docs/bench-throughput.svg

farm and compare measure and leave their raw results in OUTDIR; report only reads them, so it
can be run again on an OUTDIR to regenerate the report. Standard library only.
"""

import argparse
import os
import signal
import subprocess
import sys

import compare
import farm
import report
from common import ROOT, BenchError, log


def parse():
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)

    p = steps.add_parser("farm", help="prober check against prober farm on loopback")
    p.add_argument("outdir")
    p.add_argument("--prober", default=str(ROOT / "target/release/prober"))
    p.add_argument("--quick", action="store_true", help="fewer and smaller runs, to try the script")

    p = steps.add_parser("compare", help="prober, Ansible and the OpenSSH client on the compose fixtures")
    p.add_argument("outdir")
    p.add_argument("--prober", default=str(ROOT / "target/release/prober"))
    p.add_argument("--rounds", type=positive, default=3, help="rounds, each running every tool once [3]")
    p.add_argument("--copies", type=positive, help="times each host is listed [enough for about 200 assets]")
    p.add_argument("--hosts", default=compare.DEFAULT_HOSTS,
                   help="NAME:KEYFILE ...: fixtures by name (fixtures/inventory.csv, or a jump host in"
                        " fixtures/credentials.toml), keys in fixtures/generated/")
    p.add_argument("--parallel", type=positive, default=50, help="parallelism of every tool [50]")
    p.add_argument("--per-host", type=int, default=10, help="prober's --per-host; 0 leaves it out [10]")
    p.add_argument("--prober-args", default="", help="extra arguments for the prober, split on spaces")
    p.add_argument("--ansible-spec", default="ansible-core", help="pip requirement for Ansible [ansible-core]")
    p.add_argument("--idle-seconds", type=float, default=10, help="idle server CPU measured over [10]")

    p = steps.add_parser("report", help="docs/BENCHMARKS.md and the plot from OUTDIR's raw results")
    p.add_argument("outdir")
    p.add_argument("--out", default=str(ROOT / "docs/BENCHMARKS.md"))
    p.add_argument("--svg", default=str(ROOT / "docs/bench-throughput.svg"))
    return parser.parse_args()


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def binary(path):
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path} is not an executable (cargo build --release -p prober builds it)")
    return path


def main():
    args = parse()
    # A termination unwinds like an interrupt: the fixtures go down, the virtualenv goes away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.step == "farm":
            farm.run(args.outdir, binary(args.prober), args.quick)
        elif args.step == "compare":
            hosts = compare.fixture_hosts(args.hosts)
            settings = compare.Settings(
                hosts=hosts,
                copies=args.copies or compare.default_copies(hosts),
                rounds=args.rounds,
                parallel=args.parallel,
                per_host=args.per_host or None,
                prober_args=args.prober_args.split(),
                ansible_spec=args.ansible_spec,
                idle_seconds=args.idle_seconds,
            )
            compare.run(args.outdir, binary(args.prober), settings)
        else:
            report.write(args.outdir, args.out, args.svg)
    except (BenchError, subprocess.CalledProcessError) as error:
        log(args.step, f"ERROR: {error}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
