# scikit-learn's answers for the evaluation cases the xUnit tests write (EvaluationCases.cs), computed the way
# MLflow 2.12's default evaluator calls scikit-learn. Run by SklearnReference with Debian's Python:
#   /usr/bin/python3 sklearn_reference.py cases.json answers.json
# Every case is answered in one run: importing scikit-learn takes seconds.
import json
import math
import sys
import warnings

import numpy as np
from sklearn import metrics as sk
from sklearn.utils.multiclass import unique_labels


def number_or_none(v):
    v = float(v)
    return None if math.isnan(v) else v


def floats(a):
    return [number_or_none(v) for v in np.asarray(a, dtype=float)]


def call(answer, name, f):
    """f() into answer["metrics"][name]; None where scikit-learn raises or answers NaN; its warnings kept."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = f()
        except Exception as e:  # noqa: BLE001 - every refusal is an answer here
            answer["metrics"][name] = None
            answer["errors"][name] = f"{type(e).__name__}: {e}"
            return
    answer["metrics"][name] = number_or_none(value)
    answer["warnings"][name] = [str(w.message) for w in caught]


def regression(case):
    y = np.array(case["y"], dtype=float)
    p = np.array(case["p"], dtype=float)
    a = {"metrics": {}, "warnings": {}, "errors": {}}
    total = sum(y)  # MLflow's sum_on_target: Python's sum, element by element
    a["metrics"]["example_count"] = len(y)
    call(a, "mean_absolute_error", lambda: sk.mean_absolute_error(y, p))
    call(a, "mean_squared_error", lambda: sk.mean_squared_error(y, p))
    call(a, "root_mean_squared_error", lambda: sk.mean_squared_error(y, p, squared=False))
    a["metrics"]["sum_on_target"] = float(total)
    a["metrics"]["mean_on_target"] = float(total / len(y))
    call(a, "r2_score", lambda: sk.r2_score(y, p))
    call(a, "max_error", lambda: sk.max_error(y, p))
    call(a, "mean_absolute_percentage_error", lambda: sk.mean_absolute_percentage_error(y, p))
    return a


def converter(keys):
    """Label keys as numpy holds such labels: int or float when every key is a number, else str."""
    try:
        values = [float(k) for k in keys]
    except ValueError:
        return str
    if all(v.is_integer() for v in values):
        return int
    return float


def classification(case):
    keys = case["y"] + case["p"] + (case["classes"] or []) + ([case["pos"]] if case["pos"] is not None else [])
    conv = converter(keys)
    key_of = {conv(k): k for k in keys}
    y = np.array([conv(k) for k in case["y"]])
    p = np.array([conv(k) for k in case["p"]])
    label_list = np.unique(y)
    pos = conv(case["pos"]) if case["pos"] is not None else label_list[-1]
    binary = len(label_list) <= 2
    a = {"metrics": {}, "warnings": {}, "errors": {}, "labels": [key_of[v] for v in label_list.tolist()]}

    a["metrics"]["example_count"] = len(y)
    call(a, "accuracy_score", lambda: sk.accuracy_score(y, p))
    average = "binary" if binary else "weighted"
    pos_label = pos if binary else None
    call(a, "recall_score", lambda: sk.recall_score(y, p, average=average, pos_label=pos_label))
    call(a, "precision_score", lambda: sk.precision_score(y, p, average=average, pos_label=pos_label))
    call(a, "f1_score", lambda: sk.f1_score(y, p, average=average, pos_label=pos_label))
    if binary:
        names = ["true_negatives", "false_positives", "false_negatives", "true_positives"]
        try:
            counts = sk.confusion_matrix(y, p).ravel()
            tn, fp, fn, tp = counts  # MLflow unpacks four: a 1x1 (or 3x3) matrix fails here
            for n, v in zip(names, (tn, fp, fn, tp)):
                a["metrics"][n] = float(v)
        except ValueError as e:
            for n in names:
                a["metrics"][n] = None
                a["errors"][n] = str(e)

    a["unknown_predictions"] = sorted(key_of[v] for v in set(p.tolist()) - set(y.tolist()))
    cm = sk.confusion_matrix(y, p)
    a["confusion"] = {
        "labels": [key_of[v] for v in unique_labels(y, p).tolist()],
        "counts": cm.tolist(),
        "normalized": sk.confusion_matrix(y, p, normalize="true").tolist(),
    }

    if case["proba"] is None:
        return a
    classes = [conv(k) for k in case["classes"]]
    proba = np.array(case["proba"], dtype=float)
    same = sorted(classes) == sorted(label_list.tolist())
    # The columns in label order, as scikit-learn takes them (a model's classes_ are sorted already).
    ordered = proba[:, [classes.index(v) for v in label_list]] if same else proba
    call(a, "log_loss", lambda: sk.log_loss(y, ordered, labels=label_list))

    def column(label):
        return proba[:, classes.index(label)]

    if binary:
        def pr_auc():
            # MLflow 2.12's precision_recall_auc is its precision-recall curve's "auc": average_precision_score.
            return sk.average_precision_score(y == pos, column(pos))

        call(a, "roc_auc", lambda: sk.roc_auc_score(y == pos, column(pos)))
        call(a, "precision_recall_auc", pr_auc)
    else:
        call(a, "roc_auc", lambda: sk.roc_auc_score(y, ordered, multi_class="ovr", average="weighted"))

    if not case["curves"]:
        return a
    roc, pr = [], []
    # MLflow's plots: binary on the raw labels with pos_label, multiclass one-vs-rest on 0/1 labels.
    series = [(y, column(pos), pos, "")] if binary else [
        ((y == c).astype(int), column(c), 1, f"label={key_of[c]},") for c in label_list.tolist()]
    for truth, score, positive, prefix in series:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fpr, tpr, _ = sk.roc_curve(truth, score, pos_label=positive)
            auc = sk.roc_auc_score(truth == positive, score)
            precision, recall, _ = sk.precision_recall_curve(truth, score, pos_label=positive)
            ap = sk.average_precision_score(truth, score, pos_label=positive)
        roc.append({"label": f"{prefix}AUC={auc:.3f}", "x": floats(fpr), "y": floats(tpr), "auc": float(auc)})
        pr.append({"label": f"{prefix}AP={ap:.3f}", "x": floats(recall), "y": floats(precision), "auc": float(ap)})
    a["roc"] = roc
    a["pr"] = pr
    if binary:
        # scikit-plot's cumulative gain over the share of rows: the lift MLflow plots for the positive class.
        truth = y == pos
        order = np.argsort(column(pos))[::-1]
        gains = np.cumsum(truth[order]) / float(np.sum(truth))
        share = np.arange(start=1, stop=len(truth) + 1) / float(len(truth))
        a["lift"] = {"x": floats(share), "y": floats(gains / share)}
    return a


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    answers = {
        "regression": {c["name"]: regression(c) for c in cases["regression"]},
        "classification": {c["name"]: classification(c) for c in cases["classification"]},
        "fixed3": [f"{x:.3f}" for x in cases["fixed3"]],
        "pairwise": [float(np.sum(np.full(c["n"], c["value"]))) for c in cases["pairwise"]],
    }
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(answers, f)


main()
