"""Answering: turn ranked passages into an answer whose every claim is cited and checked.

The third stage. ``answer.Answerer`` answers with an LLM (``llm``, the only builder of chat
models, fed the prompt files through ``prompts``) or, without one, extractively (``extractive``): ``reader`` and ``phrases`` pick the short
answer and the sentence that holds it. ``citations`` checks each
cited sentence against its passage (support, quote and character span); ``answerability``
decides, with the calibration in ``calibration.json``, whether the passages answer at all;
``outcome`` turns that and the checks into an answer, a hedge or a refusal (with its confidence
and reasons), and ``refusal`` words a refusal in plain sentences;
``followup`` resolves follow-up questions; ``choices`` scores multiple-choice options;
``judging`` asks an LLM to grade answers (evaluation); ``feedback`` records readers' verdicts.

Imports only from ``assistant.search``, ``assistant.ingest`` and the ground floor; never from
the service.
"""
