"""Evidently's DataDriftPreset on two CSV files, for bench/drift.mjs (venv: scripts/bench/evidently-venv.sh).

    python bench/lib/evidently_drift.py REFERENCE.csv CURRENT.csv [METHOD [THRESHOLD]]

METHOD is an Evidently stat test name for every column ("ks": drift when the two-sided KS p-value
<= THRESHOLD, default 0.05; "wasserstein": drift when W / std(reference) >= THRESHOLD, default 0.1),
or "auto" for the preset's own choice. Every column is declared numerical, as `vitals drift` tests
them. Prints one JSON object: per column the preset's value (the p-value or the distance) and its
drift decision (the preset's per-column test), and the time of each phase in ms.
"""

import json
import sys
import time

t_start = time.perf_counter()
import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

t_imported = time.perf_counter()


def main() -> None:
    ref_path, cur_path = sys.argv[1], sys.argv[2]
    method = sys.argv[3] if len(sys.argv) > 3 else "ks"
    threshold = float(sys.argv[4]) if len(sys.argv) > 4 else None
    reference = pd.read_csv(ref_path)
    current = pd.read_csv(cur_path)
    t_read = time.perf_counter()

    columns = [c for c in reference.columns if c in current.columns]
    definition = DataDefinition(numerical_columns=columns)
    preset = DataDriftPreset(columns=columns, method=None if method == "auto" else method, threshold=threshold)
    # include_tests: the per-column drift decision comes from the preset's own ValueDrift tests
    snapshot = Report([preset], include_tests=True).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    t_run = time.perf_counter()

    result = snapshot.dict()
    values = {}
    for m in result["metrics"]:
        config = m.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            values[config["column"]] = {"value": float(m["value"]), "method": config.get("method")}
    # The preset's tests: one per column, "FAIL" when the column drifted (its own threshold rule).
    decisions = {}
    for t in result.get("tests", []):
        column = t.get("metric_config", {}).get("params", {}).get("column")
        if column in values and column not in decisions:
            decisions[column] = t["status"] == "FAIL"
    missing = [c for c in columns if c not in values or c not in decisions]
    if missing:
        raise SystemExit(f"no drift value or test for columns {missing}")
    t_done = time.perf_counter()

    ms = lambda a, b: round((b - a) * 1000, 1)  # noqa: E731
    print(
        json.dumps(
            {
                "method": method,
                "threshold": threshold,
                "features": {c: {**values[c], "drifted": decisions[c]} for c in columns},
                "drifted": sorted(c for c in columns if decisions[c]),
                "ms": {
                    "import": ms(t_start, t_imported),
                    "read_csv": ms(t_imported, t_read),
                    "report_run": ms(t_read, t_run),
                    "results": ms(t_run, t_done),
                },
            }
        )
    )


main()
