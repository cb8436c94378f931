"""Does the reference M^n reach plain tf.matmul's rate per product? (see benchmarks/README.md)

    .venv/bin/python benchmarks/matrix_power.py                 # 1024×1024, M^64, CPU, float32
    .venv/bin/python benchmarks/matrix_power.py --sizes 512,1024,2048 --devices cpu,gpu

It measures through `tfgrade bench`'s own code (tfgrade/bench.py, which runs the TensorFlow
half in a child process), writes the same CSV and PNG, and exits 1 when square-and-multiply
at `--check-size` gets less than `--min-fraction` of the device's plain matmul rate per
product. The machine the numbers come from is shared: rerun before trusting one low value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tfgrade.bench import format_table, options_from, run_bench, write_csv, write_plot  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024")
    parser.add_argument("--power", type=int, default=64)
    parser.add_argument("--devices", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default="out/bench-matrix-power")
    parser.add_argument("--check-size", type=int, default=1024)
    parser.add_argument("--min-fraction", type=float, default=0.8)
    args = parser.parse_args()
    options = options_from(args)
    report = run_bench(options, progress=lambda text: print("… " + text, file=sys.stderr, flush=True))
    write_csv(report.rows, options.out / "bench.csv")
    write_plot(report.rows, options.out / "bench.png", "en", options.power)
    print(f"TensorFlow {report.tensorflow}; devices found: {', '.join(report.devices_found)}")
    print(format_table(report.rows, "en"))

    checked = [r for r in report.rows if r["status"] == "ok" and r["method"] == "square_and_multiply"
               and r["size"] == args.check_size and r["fraction_of_matmul"] is not None]
    failed = False
    for r in checked:
        ok = r["fraction_of_matmul"] >= args.min_fraction
        failed |= not ok
        print(f"{r['device']} {r['dtype']} {r['size']}: {r['products']} products in {r['median_s']:.4f} s "
              f"= {r['median_s'] / r['products'] * 1e3:.2f} ms/product; plain matmul "
              f"{r['matmul_s'] * 1e3:.2f} ms -> {r['fraction_of_matmul']:.2f} of the matmul rate "
              f"({'ok' if ok else 'BELOW'} {args.min_fraction})")
    if not checked:
        print(f"no square_and_multiply row measured at size {args.check_size}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
