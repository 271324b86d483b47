"""Evaluation: run a question set through the assistant and score it (``assistant eval``).

- :mod:`~assistant.evaluation.metrics`: pure metric functions (SQuAD answer scores, Hit@k, MRR,
  nDCG, percentiles, refusal precision/recall, URL-normalised article ids);
- :mod:`~assistant.evaluation.runner`: question set loading, one row per question, resume,
  concurrency;
- :mod:`~assistant.evaluation.report`: aggregation, report.json, baselines and ``--fail-below``
  gates; :mod:`~assistant.evaluation.page`: the self-contained report.html;
- :mod:`~assistant.evaluation.command`: the ``assistant eval`` command and :func:`run`.

Nothing heavy is imported here, so ``assistant --help`` stays fast.
"""
