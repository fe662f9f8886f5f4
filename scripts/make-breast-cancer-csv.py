#!/usr/bin/env python3
"""Convert scikit-learn's bundled copy of the Wisconsin Diagnostic Breast Cancer
data set into data/breast_cancer/breast_cancer.csv (header row, snake_case
feature names, `diagnosis` = malignant | benign).

Usage:
  pip download --no-deps scikit-learn -d /tmp/skl
  python3 scripts/make-breast-cancer-csv.py /tmp/skl/scikit_learn-*.whl

The argument may be the wheel itself or an already extracted breast_cancer.csv.
Standard library only. Values are copied verbatim (no float re-formatting).
"""
import csv
import io
import os
import sys
import zipfile

SKLEARN_MEMBER = "sklearn/datasets/data/breast_cancer.csv"

# Names exactly as sklearn.datasets.load_breast_cancer() gives them, in column order.
SKLEARN_FEATURE_NAMES = [
    "mean radius", "mean texture", "mean perimeter", "mean area",
    "mean smoothness", "mean compactness", "mean concavity",
    "mean concave points", "mean symmetry", "mean fractal dimension",
    "radius error", "texture error", "perimeter error", "area error",
    "smoothness error", "compactness error", "concavity error",
    "concave points error", "symmetry error", "fractal dimension error",
    "worst radius", "worst texture", "worst perimeter", "worst area",
    "worst smoothness", "worst compactness", "worst concavity",
    "worst concave points", "worst symmetry", "worst fractal dimension",
]

OUT_PATH = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "breast_cancer", "breast_cancer.csv"
)


def read_source(path: str) -> str:
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            return wheel.read(SKLEARN_MEMBER).decode("utf-8")
    with open(path, encoding="utf-8") as f:
        return f.read()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = list(csv.reader(io.StringIO(read_source(sys.argv[1]))))
    # First line: n_samples, n_features, then the class names by target index.
    n_samples, n_features, *class_names = rows[0]
    n_samples, n_features = int(n_samples), int(n_features)
    assert n_features == len(SKLEARN_FEATURE_NAMES), n_features
    assert class_names == ["malignant", "benign"], class_names
    data = [r for r in rows[1:] if r]
    assert len(data) == n_samples, len(data)

    header = [name.replace(" ", "_") for name in SKLEARN_FEATURE_NAMES] + ["diagnosis"]
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for r in data:
            assert len(r) == n_features + 1, r
            writer.writerow(r[:n_features] + [class_names[int(r[n_features])]])
    print(f"wrote {len(data)} rows x {n_features} features to {os.path.normpath(OUT_PATH)}")


if __name__ == "__main__":
    main()
