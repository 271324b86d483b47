"""LLM-as-judge for the evaluation: is each cited sentence supported by the passage it cites?

Reached through ``Assistant.judge`` (the evaluation imports only the service); the prompt is
``prompts/judge_*.md`` and the passage text is neutralised like any source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.answering.prompts import load_prompt, neutralise
from assistant.models import Answer
from assistant.text import strip_markers

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def judge_answer(model: BaseChatModel, answer: Answer) -> dict[str, Any]:
    """LLM-as-judge: is each cited sentence supported by the passage it cites?"""
    prompt = load_prompt("judge")
    by_n = {p.n: p for p in answer.passages}
    verdicts: list[dict[str, Any]] = []
    for c in answer.citations:
        passage = by_n.get(c.n)
        claim = strip_markers(c.sentence or c.quote).strip()
        if passage is None or not claim:
            continue
        reply = model.invoke(prompt.invoke({"source": neutralise(passage.text), "claim": claim}))
        text = str(reply.content).strip().upper()
        verdict = next(
            (v for v in ("NOT_FOUND", "CONTRADICTED", "SUPPORTED") if v in text.replace(" ", "_")),
            "UNPARSED",
        )
        verdicts.append({"n": c.n, "claim": claim, "verdict": verdict})
    supported = sum(v["verdict"] == "SUPPORTED" for v in verdicts)
    return {
        "faithfulness": supported / len(verdicts) if verdicts else None,
        "claims": len(verdicts),
        "supported": supported,
        "verdicts": verdicts,
    }
