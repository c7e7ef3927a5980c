"""The parts of the default answerer: fused retrieval, the reader, attribution, conflicting
figures, abstention, and the fit scripts that produce their weights."""

import json

import pytest

from index.build import build
from index.chunk import Chunking
from index.read import Document
from index.store import save_index
from qa.engine import Engine
from qa.read.attribution import source_of
from qa.read.figures import asked_to_count, counted
from qa.read.question import Question
from qa.read.readers.phrases import best_phrase
from qa.settings import Settings
from tests.conftest import ROOT, SEED_FILE


def sentence_with(fragment: str) -> str:
    from index.split import split_sentences

    text = SEED_FILE.read_text(encoding="utf-8")
    return next(
        text[s.start : s.end] for s in split_sentences(text) if fragment in text[s.start : s.end]
    )


@pytest.mark.parametrize(
    "question, fragment, expected",
    [
        ("How many troops were shipped?", "North Korea has shipped 1,500", "1,500"),
        ("Who is NATO's chief?", "Mark Rutte", "Mark Rutte"),
        ("How many active duty troops does North Korea have?", "1.28 million", "1.28 million"),
        ("When did Russia and North Korea sign a partnership?", "mutual defence pact", "June"),
    ],
)
def test_reader_reads_the_span_asked_for(question, fragment, expected):
    sentence = sentence_with(fragment)
    span = best_phrase(Question.of(question), sentence)
    assert span is not None and sentence[span.start : span.end] == expected


def test_reader_gives_nothing_when_the_sentence_only_repeats_the_question():
    assert best_phrase(Question.of("Who is Mark Rutte?"), "Mark Rutte.") is None


def test_attribution_finds_who_said_it():
    assert source_of(sentence_with("Vessels belonging")) == "the NIS"
    assert source_of(sentence_with("1.28 million")) == "South Korea’s latest data"
    assert source_of("The sky is blue.") is None


@pytest.fixture(scope="module")
def conflicting(tmp_path_factory, embedder):
    docs = [
        Document(
            "agency.txt",
            "North Korea has shipped 1,500 troops to Russia, the spy agency said on Friday.\n\n"
            "The weather in Seoul was mild.",
        ),
        Document(
            "president.txt",
            "North Korea has shipped 12,000 troops to Russia, according to President Zelenskiy.\n\n"
            "Markets were calm on Monday.",
        ),
    ]
    index_dir = tmp_path_factory.mktemp("conflict") / "index"
    save_index(build(docs, embedder, Chunking()), index_dir)
    return Engine(Settings(index_dir=index_dir), embedder)


def test_conflicting_figures_are_given_side_by_side_with_their_sources(conflicting):
    result = conflicting.ask("How many troops has North Korea shipped to Russia?")
    assert not result.abstained
    assert "different figures" in result.text
    assert "1,500 (the spy agency) [" in result.text
    assert "12,000 (President Zelenskiy) [" in result.text
    assert {c.doc_id for c in result.citations} == {"agency.txt", "president.txt"}


def test_figures_of_different_things_are_not_called_a_conflict(seed_index_dir, embedder):
    # the seed reports 1,500 troops and, nearby, eight million artillery rounds: the
    # readable answer must not set the rounds against the troops
    engine = Engine(Settings(index_dir=seed_index_dir), embedder)
    result = engine.ask("How many troops were shipped?")
    assert result.answer == "1,500"
    assert "different figures" not in result.text
    assert result.text.startswith(result.citations[0].text)


def test_figures_of_other_things_than_asked_are_not_called_a_conflict(seed_index_dir, embedder):
    # the seed counts 13,000 containers (of shells, missiles and rockets) in one sentence
    # and eight million artillery rounds in another: asked for the rounds, the readable
    # answer must not set the containers against the rounds
    engine = Engine(Settings(index_dir=seed_index_dir), embedder)
    result = engine.ask("How many artillery rounds has North Korea sent to Russia?")
    assert not result.abstained and "different figures" not in result.text
    assert result.text.startswith(result.citations[0].text)
    # the containers' sentence ranks first for the shells, but 13,000 counts containers
    # (qa/read/figures.py counts_other): read again without it, the rounds' sentence answers,
    # and no figure is set against another
    shells = engine.ask("How many artillery shells has North Korea shipped?")
    assert not shells.abstained and shells.answer.endswith("eight million")
    assert "rocket rounds have been shipped" in shells.citations[0].text
    assert "13,000" not in shells.text


def test_what_a_figure_counts_and_what_a_question_asks_to_count():
    assert asked_to_count("How many troops were shipped?") == {"troop"}
    assert asked_to_count("How many were shipped?") == set()
    assert asked_to_count("Who shipped them?") == set()
    sentence = "In more than 13,000 containers, North Korea has shipped artillery rounds."
    assert counted(sentence[sentence.index(" containers") :]) == {"contain"}
    assert counted(" special forces troops to Russia") == {"special", "forc", "troop"}  # 4 words


def test_questions_about_what_the_documents_never_mention_are_refused(conflicting):
    for question in ("Who won the 2022 World Cup?", "What is the capital of Australia?"):
        result = conflicting.ask(question)
        assert result.abstained and result.answer is None and not result.citations


def test_fit_scripts_write_weights_the_answerer_loads(tmp_path, seed_index_dir):
    from qa.read.rankers import heuristic as evidence
    from qa.read.readers import phrases as reader
    from train import fit_evidence, fit_reader

    qa_file = ROOT / "eval" / "seed_qa.jsonl"
    out = tmp_path / "evidence.json"
    fit_evidence.main(["--qa", str(qa_file), "--index-dir", str(seed_index_dir), "--out", str(out)])
    weights = json.loads(out.read_text())
    assert weights["features"] == list(evidence.FEATURES)
    assert evidence.load_model(out).coef.shape == (len(evidence.FEATURES),)

    out = tmp_path / "reader.json"
    fit_reader.main(["--qa", str(qa_file), "--out", str(out)])
    assert reader.load_model(out).coef.shape == (len(reader.FEATURES),)
