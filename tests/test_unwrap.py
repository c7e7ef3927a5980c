"""Hard-wrapped plain text read as paragraphs, offsets still those of the file."""

import textwrap

import pytest

from index.extract import extract_text
from index.split import split_sentences
from index.unwrap import unwrap
from tests.conftest import SEED_FILE

PARAGRAPH = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
    "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity. "
    "It was the season of Light, it was the season of Darkness, it was the spring of hope."
)


def test_a_wrapped_book_reads_as_paragraphs_at_the_same_offsets():
    book = "CHAPTER I\n\n" + textwrap.fill(PARAGRAPH, 72) + "\n\n" + textwrap.fill(PARAGRAPH, 72)
    text = extract_text(book.encode(), "tale.txt")
    assert len(text) == len(book)
    assert text.split("\n\n") == ["CHAPTER I", PARAGRAPH, PARAGRAPH]
    said = [text[s.start : s.end] for s in split_sentences(text)]
    assert said[1] == PARAGRAPH.split(" It was the season")[0]


def test_an_email_keeps_its_signature_and_crlf_lines_keep_their_length():
    mail = textwrap.fill(PARAGRAPH, 70) + "\n\nYours,\nOswin Hale\nGull Rock\n"
    crlf = mail.replace("\n", "\r\n")
    out = unwrap(crlf)
    assert len(out) == len(crlf)
    assert out.endswith("\r\n\r\nYours,\r\nOswin Hale\r\nGull Rock\r\n")
    assert " ".join(out.split("\r\n\r\n")[0].split()) == PARAGRAPH


@pytest.mark.parametrize(
    "text",
    [
        "Roses are red,\nViolets are blue,\nSugar is sweet,\nAnd so are you.\n",  # verse
        SEED_FILE.read_text(encoding="utf-8"),  # a paragraph a line
        "One line.\nTwo lines.\n",
        "",
    ],
)
def test_text_that_is_not_wrapped_is_left_as_it_is(text):
    assert unwrap(text) == text


def test_markdown_structure_keeps_its_lines():
    body = textwrap.fill(PARAGRAPH, 60)
    readme = (
        f"# Gull Rock\n\n{body}\n\n- the ferry leaves at 6:40\n- and at 18:10\n\n"
        "```\nqa index docs/ --index-dir data/index --compact --drop-uploads\nqa serve\n```\n"
        "| day | ferry |\n| --- | --- |\n"
    )
    out = unwrap(readme)
    assert PARAGRAPH in out
    assert out.replace(PARAGRAPH, body) == readme


def test_a_log_of_one_sentence_a_line_is_not_joined():
    log = "Harbour log\n" + "\n".join(
        f"Entry {i}: the lighthouse keeper logged {i * 7} ships at dawn." for i in range(200)
    )
    assert unwrap(log) == log
