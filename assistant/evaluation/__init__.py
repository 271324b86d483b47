"""Evaluation: run a question set through the assistant and score it (``assistant eval``).

- :mod:`~assistant.evaluation.metrics`: pure metric functions (SQuAD answer scores, Hit@k, MRR,
  nDCG, percentiles, refusal precision/recall, URL-normalised article ids);
- :mod:`~assistant.evaluation.cases`: question set loading and validation, the corpus collection;
- :mod:`~assistant.evaluation.runner`: one row per question, resume, concurrency;
  :mod:`~assistant.evaluation.results`: the row model and results.jsonl;
- :mod:`~assistant.evaluation.calibration`: answer / hedge / refuse shares, answers and hedges
  right, reliability bins, ECE, risk-coverage and AURC of ``confidence``;
- :mod:`~assistant.evaluation.report`: aggregation and report.json;
  :mod:`~assistant.evaluation.gates`: baselines and ``--fail-below`` / ``--fail-above`` gates;
  :mod:`~assistant.evaluation.page`: the self-contained report.html;
  :mod:`~assistant.evaluation.figures`: its answer / hedge / refuse table and plots;
- :mod:`~assistant.evaluation.command`: the ``assistant eval`` command and :func:`run`.

Nothing heavy is imported here, so ``assistant --help`` stays fast.
"""
