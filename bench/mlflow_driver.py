"""Driver of bench/mlflow.mjs: the official MLflow client timing the same calls against a server.

    python mlflow_driver.py measure <tracking uri> <experiment id> <repeats>
    python mlflow_driver.py measure-floor <tracking uri> <repeats>
    python mlflow_driver.py seed-sqlite <mlflow.db> <experiment id> <runs>

`measure` prints one JSON line: seconds per log_batch of 1,000 metrics (a new run each time) and per
search_runs with a filter and an order over the experiment. `seed-sqlite` writes the runs that
bench/mlflow.mjs writes into Vitals — the same values from the same formula — straight into the
reference server's SQLite store (creating 10,000 runs through its REST API would take minutes).
`measure-floor` makes the same two calls against a server that answers at once with a canned body
(bench/mlflow.mjs records each server's real answer): the client's own time, which no server can save.
"""
import json
import sqlite3
import statistics
import sys
import time
import uuid

BASE = 1_700_000_000_000
FILTER = "metrics.accuracy > 0.9 and params.algorithm = 'rf'"
ORDER = ["metrics.accuracy DESC"]


def run_values(i):
    """The same formula as seedVitals() in bench/mlflow.mjs."""
    accuracy = 0.5 + ((i * 7919) % 1000) / 2000
    return {
        "name": f"run-{i}",
        "start": BASE + i * 1000,
        "params": {"algorithm": ["logreg", "rf", "xgboost"][i % 3], "C": str((i % 7) / 2)},
        "metrics": {"accuracy": accuracy, "loss": round(1 - accuracy, 6)},
        "tags": {"team": ["a", "b", "c", "d"][i % 4], "mlflow.runName": f"run-{i}"},
    }


def seed_sqlite(db, experiment_id, n):
    c = sqlite3.connect(db)
    runs, metrics, latest, params, tags = [], [], [], [], []
    for i in range(n):
        v = run_values(i)
        rid = uuid.uuid4().hex
        runs.append((rid, v["name"], "UNKNOWN", "", "", "bench", "FINISHED", v["start"], v["start"] + 500, "", "active", f"mlflow-artifacts:/{experiment_id}/{rid}/artifacts", int(experiment_id)))
        for k, val in v["metrics"].items():
            metrics.append((k, val, v["start"], rid, 0, 0))
            latest.append((k, val, v["start"], 0, 0, rid))
        params.extend((k, val, rid) for k, val in v["params"].items())
        tags.extend((k, val, rid) for k, val in v["tags"].items())
    c.executemany("insert into runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
    c.executemany("insert into metrics (key, value, timestamp, run_uuid, step, is_nan) values (?,?,?,?,?,?)", metrics)
    c.executemany("insert into latest_metrics (key, value, timestamp, step, is_nan, run_uuid) values (?,?,?,?,?,?)", latest)
    c.executemany("insert into params (key, value, run_uuid) values (?,?,?)", params)
    c.executemany("insert into tags (key, value, run_uuid) values (?,?,?)", tags)
    c.commit()


def measure(uri, experiment_id, repeats, floor=False):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    batch_seconds = []
    scratch = None if floor else client.create_experiment(f"log-batch-{uuid.uuid4().hex[:8]}")
    for r in range(repeats):
        run_id = "floor" if floor else client.create_run(scratch).info.run_id
        now = int(time.time() * 1000)
        batch = [Metric(f"m{k % 10}", k * 0.001, now + k, k // 10) for k in range(1000)]
        t = time.perf_counter()
        client.log_batch(run_id, metrics=batch)
        batch_seconds.append(time.perf_counter() - t)
        if r == 0 and not floor:
            assert len(client.get_metric_history(run_id, "m3")) == 100
    search_seconds = []
    names = None
    for _ in range(repeats):
        t = time.perf_counter()
        found = client.search_runs([experiment_id], FILTER, order_by=ORDER, max_results=1000)
        search_seconds.append(time.perf_counter() - t)
        names = [r.info.run_name for r in found]
    print(json.dumps({"log_batch_s": statistics.median(batch_seconds), "search_runs_s": statistics.median(search_seconds), "log_batch_all": batch_seconds, "search_runs_all": search_seconds, "found": len(names), "first": names[:20]}))


if __name__ == "__main__":
    if sys.argv[1] == "seed-sqlite":
        seed_sqlite(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "measure-floor":
        measure(sys.argv[2], "0", int(sys.argv[3]), floor=True)
    else:
        measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))
