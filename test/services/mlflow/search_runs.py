"""The same runs and the same searches, printed as run names in the order the server returned them.

    python search_runs.py <tracking uri>

Run against Vitals and against a real `mlflow server`, the outputs must be identical: that is the
meaning of "search_runs returns what MLflow would" (filter grammar, order_by, nulls last, paging,
view types, datasets). Start times are explicit so that the default ordering is deterministic.
"""
import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, Metric, Param, RunTag, ViewType

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
exp = client.create_experiment(sys.argv[2] if len(sys.argv) > 2 else "search-compare")
base = 1_700_000_000_000
runs = {}
for i in range(12):
    algo = ["logreg", "rf", "xgboost"][i % 3]
    run = client.create_run(exp, start_time=base + i * 1000, run_name=f"run-{i:02d}", tags={"team": ["a", "A", "b"][i % 3]})
    rid = run.info.run_id
    runs[run.info.run_name] = rid
    metrics = [Metric("accuracy", 0.70 + (i * 7 % 12) / 40, base + i, 0), Metric("loss", 1.0 - i / 20, base + i, 0), Metric("loss", 0.9 - i / 20, base + i + 1, 1)]
    if i % 4 != 0:
        metrics.append(Metric("roc_auc", 0.5 + (i * 5 % 12) / 25, base + i, 0))
    if i % 5 == 0:
        metrics.append(Metric("val score", i / 10, base + i, 0))
    params = [Param("algorithm", algo), Param("C", str([0.1, 1.0, 10.0][i % 3 if i < 6 else (i + 1) % 3]))]
    tags = [RunTag("note", "checked")] if i % 3 == 1 else []
    client.log_batch(rid, metrics=metrics, params=params, tags=tags)
    if i % 4 == 1:
        client.log_inputs(rid, [DatasetInput(Dataset(name="train" if i < 6 else "holdout", digest=f"d{i % 2}", source_type="local", source="x.csv"))])
    client.set_terminated(rid, status=["FINISHED", "FAILED", "FINISHED", "KILLED"][i % 4], end_time=base + i * 1000 + 500)
client.delete_run(runs["run-11"])

queries = [
    ("", []),
    ("metrics.accuracy > 0.8", ["metrics.accuracy DESC"]),
    ("params.algorithm = 'rf' and tags.team = 'A'", ["params.C ASC"]),
    ("attributes.status = 'FINISHED'", ["attributes.start_time ASC"]),
    ("metrics.loss < 0.5", ["metrics.loss ASC", "params.algorithm DESC"]),
    ("", ["metrics.roc_auc DESC"]),
    ("", ["metrics.roc_auc ASC"]),
    ("params.algorithm LIKE 'log%'", []),
    ("tags.team ILIKE 'a'", ["attributes.run_name DESC"]),
    ("attributes.run_name = 'run-03'", []),
    ("tags.note IS NULL", ["attributes.run_name ASC"]),
    ("params.C != '1.0'", ["params.C DESC", "attributes.run_name ASC"]),
    ("metrics.`val score` >= 0", []),
    ('metrics."roc_auc" <= 0.8 AND metrics.accuracy >= 0.7', ["tags.team ASC"]),
    ("attributes.end_time > 1700000005000", ["attributes.end_time ASC"]),
    ("datasets.name = 'train'", []),
    ("datasets.digest IN ('d1')", ["attributes.run_name ASC"]),
]
out = {}
for f, order in queries:
    found = client.search_runs([exp], filter_string=f, order_by=order)
    out[f"{f} | {','.join(order)}"] = [r.info.run_name for r in found]

# run ids differ between servers: filter by them, report names
ids = [runs["run-02"], runs["run-05"], runs["run-11"]]
out["run_id IN"] = [r.info.run_name for r in client.search_runs([exp], f"attributes.run_id IN ('{ids[0]}', '{ids[1]}', '{ids[2]}')", run_view_type=ViewType.ALL)]
out["deleted only"] = [r.info.run_name for r in client.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)]
out["all"] = [r.info.run_name for r in client.search_runs([exp], run_view_type=ViewType.ALL, order_by=["metrics.accuracy ASC"])]

pages, token = [], None
while True:
    page = client.search_runs([exp], order_by=["metrics.accuracy DESC"], max_results=5, page_token=token)
    pages.append([r.info.run_name for r in page])
    token = page.token
    if not token:
        break
out["pages"] = pages

fluent = mlflow.search_runs([exp], filter_string="metrics.accuracy > 0.75 and params.algorithm != 'xgboost'", order_by=["metrics.loss DESC"], output_format="list")
out["fluent"] = [(r.info.run_name, r.data.params["algorithm"], round(r.data.metrics["loss"], 6), r.info.status) for r in fluent]

errors = {}
for f in ["metrics.accuracy >> 1", "params.C > '1'", "foo.bar = 'x'", "metrics.accuracy = 'high'", "attributes.nope = 'x'", "metrics.accuracy > 1 OR metrics.loss < 1", "attributes.status IN ('FAILED', 'KILLED')"]:
    try:
        client.search_runs([exp], f)
        errors[f] = None
    except mlflow.exceptions.MlflowException as e:
        errors[f] = e.error_code
out["errors"] = errors
print(json.dumps(out))
