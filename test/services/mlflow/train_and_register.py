"""A training script as a Vitals user writes it with the official MLflow client (mlflow-skinny).

    python train_and_register.py <tracking uri> <workdir>

<workdir>/model.onnx and <workdir>/model.json (feature names, labels, params, per-epoch losses) are
made beforehand by the test (the "training"); this script logs them the way MLflow users do: params,
a metric over steps, a dataset input, the ONNX file with an MLmodel (column signature + labels),
registers the model, points the `production` alias at it, and prints what it saw as one JSON line.
"""
import json
import os
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag

uri, workdir = sys.argv[1], sys.argv[2]
spec = json.load(open(os.path.join(workdir, "model.json")))
mlflow.set_tracking_uri(uri)
experiment = mlflow.set_experiment("breast-cancer-training")
client = MlflowClient()

with mlflow.start_run(run_name="logreg-l2") as run:
    run_id = run.info.run_id
    mlflow.log_params(spec["params"])
    mlflow.log_param("algorithm", "logreg")
    for epoch, loss in enumerate(spec["losses"]):
        mlflow.log_metric("loss", loss, step=epoch)
    mlflow.log_metrics(spec["metrics"])
    mlflow.set_tag("team", "radiology-ml")
    client.log_inputs(run_id, [DatasetInput(Dataset(name="breast_cancer", digest=spec["data_digest"], source_type="local", source="data/breast_cancer/breast_cancer.csv"), tags=[InputTag("mlflow.data.context", "training")])])

    model_dir = os.path.join(workdir, "model")
    os.makedirs(model_dir, exist_ok=True)
    columns = [{"type": "double", "name": f, "required": True} for f in spec["features"]]
    with open(os.path.join(model_dir, "MLmodel"), "w") as f:
        f.write("artifact_path: model\n")
        f.write("flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\n")
        f.write(f"mlflow_version: {mlflow.__version__}\n")
        f.write("signature:\n  inputs: '" + json.dumps(columns) + "'\n")
        f.write("metadata:\n  task: classification\n  labels: " + json.dumps(spec["labels"]) + "\n")
    os.replace(os.path.join(workdir, "model.onnx"), os.path.join(model_dir, "model.onnx"))
    mlflow.log_artifacts(model_dir, artifact_path="model")

listed = sorted(f.path for f in client.list_artifacts(run_id, "model"))
local = client.download_artifacts(run_id, "model/model.onnx", workdir + "/download")
downloaded_size = os.path.getsize(local)

version = mlflow.register_model(f"runs:/{run_id}/model", "breast-cancer-mlflow")
client.set_registered_model_alias("breast-cancer-mlflow", "production", version.version)
by_alias = client.get_model_version_by_alias("breast-cancer-mlflow", "production")
model = client.get_registered_model("breast-cancer-mlflow")
fetched = client.get_run(run_id)
history = client.get_metric_history(run_id, "loss")

# registering again makes version 2 (the registered model already exists)
version2 = mlflow.register_model(f"runs:/{run_id}/model", "breast-cancer-mlflow")

errors = {}
for name, call in {
    "missing_experiment": lambda: client.get_experiment("does-not-exist"),
    "duplicate_experiment": lambda: client.create_experiment("breast-cancer-training"),
    "bad_filter": lambda: client.search_runs([experiment.experiment_id], "metrics.accuracy >> 1"),
    "unknown_alias": lambda: client.set_registered_model_alias("breast-cancer-mlflow", "champion", version.version),
    "changed_param": lambda: client.log_param(run_id, "algorithm", "rf"),
}.items():
    try:
        call()
        errors[name] = None
    except mlflow.exceptions.MlflowException as e:
        errors[name] = e.error_code

print(json.dumps({
    "experiment_id": experiment.experiment_id,
    "run_id": run_id,
    "status": fetched.info.status,
    "params": fetched.data.params,
    "metrics": fetched.data.metrics,
    "tags": {k: v for k, v in fetched.data.tags.items() if not k.startswith("mlflow.") or k == "mlflow.runName"},
    "datasets": [{"name": d.dataset.name, "digest": d.dataset.digest} for d in fetched.inputs.dataset_inputs],
    "history": [[m.step, m.value] for m in history],
    "artifacts": listed,
    "downloaded_size": downloaded_size,
    "version": version.version,
    "version_status_message": version.status_message,
    "version2": version2.version,
    "alias_version": by_alias.version,
    "model_aliases": dict(model.aliases),
    "errors": errors,
}))
