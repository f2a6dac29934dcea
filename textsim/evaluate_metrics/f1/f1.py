"""F1, precision and recall of the positive class (label 1, 相似) as a local `evaluate` metric."""
import datasets
import evaluate
from sklearn.metrics import precision_recall_fscore_support


class F1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="F1, precision and recall of label 1 (相似); a class never predicted has precision 0.",
            citation="scikit-learn's precision_recall_fscore_support (Pedregosa et al., JMLR 12, 2011).",
            inputs_description="predictions, references: lists of int labels, 0 (不相似) or 1 (相似).",
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references):
        precision, recall, f1, _ = precision_recall_fscore_support(
            references, predictions, average="binary", pos_label=1, zero_division=0)
        return {"f1": float(f1), "precision": float(precision), "recall": float(recall)}
