"""The conversation as text: one answer for the clipboard, the whole chat as a Markdown file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from qa.display import printable
from qa.records import UNSURE_NOTE, Citation

from .conversation import Exchange, Source, abstention_note, quoted, sources_of

ABSTAINED_HEADING = "The articles don't say"


def answer_text(exchange: Exchange) -> str:
    """One exchange as plain text: question, answer with its [n] markers, then its numbered sources (control
    characters of the articles shown, not kept, so pasting it cannot drive a terminal)."""
    answer = exchange.answer
    lines = [f"Q: {exchange.question}", ""]
    if answer.abstained:
        lines += [f"{ABSTAINED_HEADING}. {exchange.no_match or abstention_note(answer, ABSTAINED_HEADING)}".strip(), ""]
        if answer.closest:
            lines.append("Closest passages:")
    else:
        summary = answer.written_text()
        lines += [UNSURE_NOTE] if answer.unsure else []
        lines += ([summary, "", "Quotes:", answer.text, ""] if summary else [answer.text, ""])
    for source in sources_of(answer):
        lines.append(_source_line(exchange, source))
    return printable("\n".join(lines).rstrip() + "\n")


def conversation_markdown(exchanges: Sequence[Exchange], corpus: str, saved: datetime) -> str:
    """The whole conversation as Markdown, each answer followed by its citations (control characters shown,
    so `cat` on the file cannot drive a terminal)."""
    out = ["# newsqa conversation", "", f"Articles: `{corpus}` · saved {saved:%Y-%m-%d %H:%M}", ""]
    for index, exchange in enumerate(exchanges, start=1):
        answer = exchange.answer
        out += [f"## {index}. {_markdown(exchange.question)}", ""]
        if answer.reader:  # who answered, and how sure: a conversation may switch readers half-way
            out += [f"*{answer.reader} reader · confidence {answer.confidence:.2f}*", ""]
        if answer.abstained:
            note = _markdown(exchange.no_match) if exchange.no_match else abstention_note(answer, ABSTAINED_HEADING)
            out += [f"*{ABSTAINED_HEADING}.* {note}".rstrip(), ""]
            if answer.closest:
                out += ["Closest passages:", ""]
        else:
            quoted_text = answer.quoted_text(_markdown) or answer.text
            if answer.unsure:
                out += [f"*{UNSURE_NOTE}*", ""]
            if answer.written:  # the server reader's own words, then the quotes they rest on
                out += [answer.written_text(_markdown), "", "Quotes:", ""]
            out += [quoted_text, "", "**Sources**", ""]
        for source in sources_of(answer):
            article = exchange.articles.get(source.span.doc_id)
            label = "" if source.kind == "cited" else "closest "
            byline = f"{_markdown(source.span.byline)} · " if source.span.byline else ""
            out.append(f"{source.number}. *{_markdown(source.span.title)}* — {byline}"
                       f"{_code(source.span.path)}, {label}characters {source.span.start}–{source.span.end}")
            if source.span.url:  # only a web address becomes a link: never `javascript:` or `file:`
                url = _one_line(source.span.url)
                out.append(f"   <{url}>" if re.fullmatch(r"https?://[^\s<>]+", url) else f"   {_code(url)}")
            text = _one_line(quoted(article, source.span))
            if text:
                out.append(f"   > {_markdown(text)}")
            if source.also:
                out.append("   also in: " + "; ".join(" · ".join(part for part in (_markdown(c.byline), _code(c.path))
                                                                     if part) for c in source.also))
        out.append("")
    return printable("\n".join(out).rstrip() + "\n")


def chat_file_name(saved: datetime) -> str:
    return f"newsqa-chat-{saved:%Y%m%d-%H%M%S}.md"


def save_conversation(exchanges: Sequence[Exchange], corpus: str, folder: Path,
                      saved: datetime | None = None) -> Path:
    """Write the conversation to `folder`/newsqa-chat-YYYYmmdd-HHMMSS.md (never overwriting) and return it."""
    saved = saved or datetime.now()
    path = folder / chat_file_name(saved)
    suffix = 2
    while path.exists():
        path = folder / chat_file_name(saved).replace(".md", f"-{suffix}.md")
        suffix += 1
    path.write_text(conversation_markdown(exchanges, corpus, saved), encoding="utf-8")
    return path


def _source_line(exchange: Exchange, source: Source) -> str:
    article = exchange.articles.get(source.span.doc_id)
    text = _one_line(quoted(article, source.span))
    head = f"[{source.number}] {source.span.title} ({_where(source.span)})"
    line = f"{head}: \"{text}\"" if source.kind == "cited" and text else head
    copies = "; ".join(_where(copy) for copy in source.also)
    return f"{line}\n    also in: {copies}" if copies else line


def _where(citation: Citation) -> str:
    """Outlet, date and file of a source or a copy: "The Week · fetched 2023-01-28 · f.txt"."""
    return " · ".join(part for part in (citation.byline, citation.path) if part)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _markdown(text: str) -> str:
    """Article text as literal Markdown: on one line, its emphasis, link, code and HTML characters escaped."""
    return re.sub(r"([\\`*_\[\]<>#|!])", r"\\\1", _one_line(text))


def _code(text: str) -> str:
    """A file name or address as inline code: on one line, in a fence longer than any backtick run in it."""
    text = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"{fence}{text}{fence}"
