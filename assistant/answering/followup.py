"""Follow-up questions resolved from what the conversation established, not by piling up words.

Without an LLM, a follow-up ("What did he praise Iran for?", "And when did they sign it?") is
rewritten from the previous turn only:

- a personal pronoun is replaced by its referent: for he/she/him/his/her the previous short
  answer when it is a name (the person the conversation just established), else the first name
  of the previous question, by surname as news copy refers to a person the second time; for it/its/they/them/their the previous question's first name that
  is not already in the follow-up, or the previous short answer;
- an ellipsis ("And ...", "What about ...") or a bare demonstrative ("that deal") keeps the
  question as written and adds, in brackets, the names the previous question and answer
  established (at most three), so retrieval finds the same story.

The previous turn's own standalone question is used, never its added context, so words do not
pile up over turns. With an LLM the condense prompt rewrites; :func:`usable_rewrite` rejects a
rewrite that drops the question's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.models import Turn
from assistant.text import content_tokens, name_phrases, strip_markers

_PERSONAL = {"he": "", "she": "", "him": "", "his": "'s", "her": "", "hers": "'s"}
_NEUTER = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "theirs": "'s"}
_PRONOUN = re.compile(r"\b(" + "|".join([*_PERSONAL, *_NEUTER]) + r")\b", re.IGNORECASE)
_DEMONSTRATIVE = re.compile(
    r"\b(?:that|this|those|these|the same|the former|the latter)\b(?!\s+(?:week|weekend|month|"
    r"year|morning|summer|spring|fall|autumn|winter|season|time|day|days|weeks|months|years)\b)",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|what of|also|but)\b", re.IGNORECASE)
_CONTEXT = re.compile(r"\s*\([^()]*\)\s*$")


def refers_back(question: str) -> bool:
    words = re.findall(r"\w+", question)
    return bool(
        _PRONOUN.search(question)
        or _DEMONSTRATIVE.search(question)
        or _ELLIPSIS.match(question)
        or len(words) <= 3
    )


def _previous(history: Sequence[Turn]) -> tuple[str, str]:
    """The previous turn's standalone question (without added context) and short answer."""
    last = history[-1]
    standalone = last.standalone or resolve(last.question, history[:-1])
    standalone = _CONTEXT.sub("", standalone)
    short = last.short_answer
    if not short and last.answer:
        first = strip_markers(last.answer).split("\n")[0].split(".")[0]
        found = name_phrases(first)
        short = found[0] if found else ""
    return standalone, short


def _is_name(text: str) -> bool:
    return bool(text) and all(w[:1].isupper() or w.lower() in {"of", "al"} for w in text.split())


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The follow-up as a standalone question (see the module docstring)."""
    if not history or not refers_back(question):
        return question
    previous, short = _previous(history)
    prev_names = [n for n in name_phrases(previous) if n.lower() not in question.lower()]
    m = _PRONOUN.search(question)
    if m is not None:
        word = m.group(1).lower()
        if word in _PERSONAL:
            candidates = [short] if _is_name(short) else []
            candidates += [n for n in prev_names if len(n.split()) >= 1]
        else:
            candidates = [*prev_names, *([short] if _is_name(short) else [])]
        referent = next((c for c in candidates if c and c.lower() not in question.lower()), "")
        if referent and word in _PERSONAL:
            referent = referent.split()[-1]  # second reference by surname, as news copy does
            suffix = _PERSONAL.get(word, _NEUTER.get(word, ""))
            return question[: m.start()] + referent + suffix + question[m.end() :]
    context = [n for n in prev_names]
    if _is_name(short) and short.lower() not in question.lower() and short not in context:
        context.insert(0, short)
    if not context:
        return question
    return f"{question} ({'; '.join(context[:3])})"


def usable_rewrite(question: str, rewrite: str) -> bool:
    """A rewrite keeps most of the question's own content words (pronouns aside)."""
    own = {t for t in content_tokens(_PRONOUN.sub(" ", question))}
    if not rewrite.strip():
        return False
    if not own:
        return True
    kept = own & set(content_tokens(rewrite))
    return len(kept) / len(own) >= 0.6
