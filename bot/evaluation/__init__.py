"""NLU evaluation: held-out splits of labelled examples, trained pipelines, reports."""
