"""What one process of a multi-process launch saw (``python -m textsim.train --record-ranks``): its rank, a digest
of its split and its first training batch, so that tests can check that torchrun's processes split alike and
train on different batches."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


class FirstBatch:
    """Wraps the Trainer's data collator and keeps the token ids of the first batch it builds on this process (a
    training batch: nothing is evaluated before training)."""

    def __init__(self, collator):
        self.collator, self.pairs = collator, None

    def __call__(self, features):
        if self.pairs is None:
            self.pairs = [[ids for key in sorted(f) if key.startswith("input_ids") for ids in f[key]]
                          for f in features]
        return self.collator(features)

    @classmethod
    def attach(cls, trainer) -> FirstBatch:
        trainer.data_collator = cls(trainer.data_collator)
        return trainer.data_collator

    def write(self, trainer, splits, saved: bool) -> Path:
        """``<output_dir>/ranks/rank<k>.json``: this process's rank, its split's digest, its first batch."""
        args = trainer.args
        path = Path(args.output_dir) / "ranks" / f"rank{args.process_index}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"rank": args.process_index, "world_size": args.world_size, "saved": saved,
                  "split": split_digest(splits), "first_batch": self.pairs}
        path.write_text(json.dumps(record), encoding="utf-8")
        return path


def split_digest(splits) -> dict[str, str]:
    """A sha256 of each split's pairs, in order: equal digests, equal splits."""
    return {name: hashlib.sha256(json.dumps(part.to_dict(), ensure_ascii=False, sort_keys=True).encode())
            .hexdigest() for name, part in splits.items()}
