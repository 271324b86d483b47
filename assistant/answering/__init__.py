"""Answering: turn ranked passages into an answer whose every claim is cited and checked.

The third stage. ``answer.Answerer`` answers with an LLM (``llm``, the only builder of chat
models, fed the prompt files through ``prompts``) or, without one, extractively (``extractive``): ``reader`` and ``phrases`` pick the short
answer and the sentence that holds it. ``citations`` checks each
cited sentence against its passage (support, quote and character span); ``answerability``
decides, with the calibration in ``calibration.json``, whether the passages answer at all;
``followup`` resolves follow-up questions; ``choices`` scores multiple-choice options;
``judging`` asks an LLM to grade answers (evaluation); ``feedback`` records readers' verdicts.

Imports only from ``assistant.search``, ``assistant.ingest`` and the ground floor; never from
the service.
"""
