"""Accuracy as a local `evaluate` metric: the share of predictions equal to the reference label."""
import datasets
import evaluate
from sklearn.metrics import accuracy_score


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Accuracy: the share of pairs whose predicted label equals the reference label.",
            citation="scikit-learn's accuracy_score (Pedregosa et al., JMLR 12, 2011).",
            inputs_description="predictions, references: lists of int labels, 0 (不相似) or 1 (相似).",
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references):
        return {"accuracy": float(accuracy_score(references, predictions))}
