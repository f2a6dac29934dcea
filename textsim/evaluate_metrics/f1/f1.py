"""F1, precision and recall of the positive class (label 1, 相似) as a local `evaluate` metric."""
import datasets
import evaluate
from sklearn.metrics import precision_recall_fscore_support

_DESCRIPTION = ("F1 of the positive class (label 1, 相似): the harmonic mean of its precision and recall, "
                "which come with it. A class never predicted has precision 0, not an error.")
_CITATION = "scikit-learn's precision_recall_fscore_support (Pedregosa et al., JMLR 12, 2011)."
_INPUTS = """
Args:
    predictions (list of int): predicted labels, 0 (不相似) or 1 (相似).
    references (list of int): true labels.
Returns:
    f1, precision, recall (float): of label 1, each between 0 and 1.
"""


class F1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_INPUTS,
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references):
        precision, recall, f1, _ = precision_recall_fscore_support(
            references, predictions, average="binary", pos_label=1, zero_division=0)
        return {"f1": float(f1), "precision": float(precision), "recall": float(recall)}
