"""Accuracy as a local `evaluate` metric: the share of predictions equal to the reference label."""
import datasets
import evaluate
from sklearn.metrics import accuracy_score

_DESCRIPTION = "Accuracy: the share of pairs whose predicted label equals the reference label."
_CITATION = "scikit-learn's accuracy_score (Pedregosa et al., JMLR 12, 2011)."
_INPUTS = """
Args:
    predictions (list of int): predicted labels, 0 (不相似) or 1 (相似).
    references (list of int): true labels.
Returns:
    accuracy (float): between 0 and 1.
"""


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_INPUTS,
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references):
        return {"accuracy": float(accuracy_score(references, predictions))}
