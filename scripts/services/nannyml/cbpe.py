"""NannyML's CBPE on the files the test writes: prints per-chunk estimated accuracy and ROC AUC as JSON.

   python cbpe.py reference.csv analysis.csv chunk_size
Columns: score (probability of class 1), pred (0/1), y (0/1; reference only).
"""
import json
import os
import sys
import warnings

# NannyML posts usage analytics to api.segment.io unless this is set; nothing may leave 127.0.0.1.
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import nannyml as nml  # noqa: E402
import pandas as pd  # noqa: E402

warnings.filterwarnings("ignore")
ref = pd.read_csv(sys.argv[1])
ana = pd.read_csv(sys.argv[2])
chunk = int(sys.argv[3])
est = nml.CBPE(y_pred_proba="score", y_pred="pred", y_true="y", problem_type="classification_binary",
               metrics=["roc_auc", "accuracy"], chunk_size=chunk)
est.fit(ref)
df = est.estimate(ana).filter(period="analysis").to_df()
out = {"nannyml": nml.__version__, "needs_calibration": bool(getattr(est, "needs_calibration", False)), "chunks": []}
for _, row in df.iterrows():
    out["chunks"].append({
        "start": int(row[("chunk", "start_index")]), "end": int(row[("chunk", "end_index")]),
        "accuracy": float(row[("accuracy", "value")]), "roc_auc": float(row[("roc_auc", "value")]),
        "accuracy_lower": float(row[("accuracy", "lower_confidence_boundary")]),
        "accuracy_upper": float(row[("accuracy", "upper_confidence_boundary")]),
    })
print(json.dumps(out))
