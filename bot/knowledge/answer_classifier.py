"""Which stored answer a message asks for: a classifier over the knowledge base's own vectors.

Nearest-question search sees one question at a time. Two neighbouring answers ("do you sell
gift cards" / "how long is a gift card valid") have questions that lie close together, and
a question asked in a language none of them is written in often lands nearer the wrong one.
A logistic regression trained on every vector the store holds for an answer (its stored
questions, its answer text and the answer's per-language versions, centred on their
languages) learns what tells neighbours
apart across all of them at once; its log-probability is added to the retriever's score
(bot/knowledge/retriever.py). It is trained when the retriever opens a store, from the
vectors the store already holds (nothing is embedded again), so it follows every
`bridge kb build/add/remove` like the index does.

scikit-learn's LogisticRegression (multinomial, lbfgs) is the model: one weight vector per
answer, cheap to fit on a knowledge base of the demo's size. Above `MAX_VECTORS` it is
not trained (the fit grows with answers x vectors); the retriever then ranks by similarity
alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Largest store (questions) the retriever trains the classifier for.
MAX_VECTORS = 20_000
# Inverse regularisation strength (bench answers chose it on its dev split, with the answers'
# versions among the training vectors: a stronger prior than 1.0 generalised better to questions
# in languages no stored question is written in).
DEFAULT_C = 0.3


class AnswerClassifier:
    """Log-probabilities of the stored answers for message vectors.

    Example:
        >>> classifier = AnswerClassifier.fit(vectors, ["gift-001", "gift-001", "gift-002"])
        >>> classifier.log_probabilities(query_vectors)[:, classifier.column["gift-002"]]
    """

    def __init__(self, entry_ids: Sequence[str], model) -> None:
        self.entry_ids = list(entry_ids)
        self.column = {entry_id: i for i, entry_id in enumerate(self.entry_ids)}
        self.model = model

    @classmethod
    def fit(cls, vectors: np.ndarray, entry_ids: Sequence[str], C: float = DEFAULT_C) -> AnswerClassifier | None:
        """Trains on `vectors`, each labelled with its answer's id; None when there is nothing to
        tell apart (fewer than two answers)."""
        from sklearn.linear_model import LogisticRegression

        labels = sorted(set(entry_ids))
        if len(labels) < 2:
            return None
        column = {entry_id: i for i, entry_id in enumerate(labels)}
        targets = np.array([column[e] for e in entry_ids])
        model = LogisticRegression(C=C, max_iter=2000).fit(np.asarray(vectors, dtype=np.float32), targets)
        return cls([labels[int(c)] for c in model.classes_], model)

    def log_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, answers) natural-log probabilities; columns follow `entry_ids`."""
        return self.model.predict_log_proba(np.asarray(vectors, dtype=np.float32))
