"""Every implementation of a role keeps to the same contract, with the real models over the
seed index: rankers (qa.read.rankers), readers (qa.read.readers), the abstainer of each
ranker. A new ranker or answer backend is one new module plus one registry line, and then
it answers."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from index.stores.segments import SegmentStore
from qa.engine import Engine
from qa.errors import TrainedModelError
from qa.read.abstain import FEATURES, LogisticAbstainer
from qa.read.answerers import ANSWERERS, verifier_for
from qa.read.pipeline import find
from qa.read.question import KINDS, Question
from qa.read.rankers import RANKERS, ranker
from qa.read.rankers.heuristic import ABSTAIN_WEIGHTS
from qa.read.readers import READERS, reader
from qa.read.retrieve import HybridRetriever
from qa.settings import Settings
from tests.conftest import SEED_FILE
from tests.test_answer_backends import QUESTIONS, TROOPS, check_contract


@pytest.fixture(scope="module")
def retriever(seed_index_dir, embedder) -> HybridRetriever:
    return HybridRetriever(SegmentStore(seed_index_dir, embedder.name), embedder)


def check_ranker(chosen, retriever: HybridRetriever) -> None:
    """Best first, probabilities, only retrieved sentences that may be cited, offsets into
    the document; the ranker names its reader and owns a refusal model."""
    document = SEED_FILE.read_text(encoding="utf-8")
    for text in QUESTIONS:
        retrieval = retriever.retrieve(text, 5)
        ranked = chosen.rank(Question.of(text), retrieval)
        retrieved = {s.id for p in retrieval.passages for s in p.sentences if not s.flagged}
        assert ranked and {r.sentence.id for r in ranked} <= retrieved
        assert len({r.sentence.id for r in ranked}) == len(ranked)
        scores = [r.score for r in ranked]
        assert scores == sorted(scores, reverse=True) and all(0 <= p <= 1 for p in scores)
        assert all(document[r.sentence.start : r.sentence.end] == r.sentence.text for r in ranked)
    assert chosen.reader in READERS and chosen.abstain_weights.is_file()


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_ranker_keeps_to_the_contract(name, retriever):
    chosen = ranker(name, Settings())
    check_ranker(chosen, retriever)
    ranked = chosen.rank(Question.of(TROOPS), retriever.retrieve(TROOPS, 5))
    assert "1,500 special forces troops" in ranked[0].sentence.text


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_ranker_ranks_a_retrieval_without_a_sentence_as_if_it_were_not_there(name, retriever):
    # the pipeline reads a question again without a sentence that does not answer it
    # (qa/read/pipeline.py counted_elsewhere): no ranker may put it back
    chosen = ranker(name, Settings())
    retrieval = retriever.retrieve(TROOPS, 5)
    best = chosen.rank(Question.of(TROOPS), retrieval)[0].sentence
    without = retrieval.without(best.id)
    ranked = chosen.rank(Question.of(TROOPS), without)
    assert ranked and best.id not in {r.sentence.id for r in ranked}
    assert [p.text for p in without.passages] == [p.text for p in retrieval.passages]
    assert sum(len(p.sentences) for p in without.passages) == sum(
        len(p.sentences) for p in retrieval.passages
    ) - sum(s.id == best.id for p in retrieval.passages for s in p.sentences)


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_reader_reads_a_span_of_its_sentence(name, retriever):
    """Each ranker's reader: a span inside the sentence, or None; the troops' figure."""
    chosen = ranker(name, Settings())
    spans = reader(chosen.reader, Settings())
    for text in QUESTIONS:
        question = Question.of(text)
        for ranked in chosen.rank(question, retriever.retrieve(text, 5))[:3]:
            span = spans.span(question, ranked)
            if span is not None:
                assert 0 <= span.start < span.end <= len(ranked.sentence.text)
                assert isinstance(span.score, float)
    found = find(retriever, chosen, spans, TROOPS, 5)
    assert found.span and found.ranked[0].sentence.text[found.span.start : found.span.end] == (
        "1,500"
    )


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_ranker_s_abstainer_gives_a_probability(name, retriever):
    chosen = ranker(name, Settings())
    abstainer = LogisticAbstainer(chosen.abstain_weights)  # with its fitted threshold
    # the verifier runs when the refusal model was fitted with it (the shipped model's is)
    verifier = verifier_for(abstainer, chosen, Settings())
    assert (verifier is not None) == (name == "cross")
    roles = (chosen, reader(chosen.reader, Settings()))
    answered = find(retriever, *roles, TROOPS, 5, verifier=verifier)
    off_topic = find(retriever, *roles, "Who won the 2022 World Cup?", 5, verifier=verifier)
    width = len(FEATURES) + (verifier is not None)
    assert answered.features.shape == off_topic.features.shape == (width,)
    high, low = abstainer.probability(answered.features), abstainer.probability(off_topic.features)
    assert 0 <= low < abstainer.below < high <= 1


def test_a_ranker_without_its_refusal_model_is_a_clear_error(tmp_path):
    with pytest.raises(TrainedModelError, match="train.fit_abstain"):
        LogisticAbstainer(tmp_path / "abstain.json")


def test_unknown_names_list_the_choices():
    with pytest.raises(TrainedModelError, match="heuristic, cross"):
        ranker("bm25", Settings())
    with pytest.raises(TrainedModelError, match="phrases, span-head"):
        reader("spacy", Settings())


def test_the_question_s_type_is_one_of_the_kinds():
    kinds = [Question.of(q).kind for q in QUESTIONS]
    assert set(kinds) <= set(KINDS) and kinds[:3] == ["number", "place", "person"]


NEW_RANKER = '''
"""Trusts the retrieval: the sentences in the order of their passages."""

from pathlib import Path

from qa.read.roles import RankedSentence


class RetrievalOrderRanker:
    abstain_weights = Path(__file__).with_name("retrieval_order_abstain.json")
    reader = "phrases"
    model_dir = None

    def rank(self, question, retrieval):
        ranked, seen = [], set()
        for rank, passage in enumerate(retrieval.passages):
            for s in passage.sentences:
                if not s.flagged and s.id not in seen:
                    seen.add(s.id)
                    ranked.append(RankedSentence(s, 1 / (1 + len(ranked)), 0.0, rank))
        return ranked
'''

NEW_ANSWERER = '''
"""Answers with the best sentence alone."""

from qa.read.answer import NO_ANSWER, Answer


class QuoteAnswerer:
    def answer(self, evidence):
        timings = dict(evidence.timings_ms)
        if evidence.abstained:
            return Answer(None, True, NO_ANSWER, [], evidence.passages, timings, evidence.probability)
        first = evidence.citations[0]
        text = f"{first.text} [1]"
        return Answer(evidence.answer, False, text, [first], evidence.passages, timings, evidence.probability)

    def stream(self, evidence):
        result = self.answer(evidence)
        yield result.text
        yield result
'''


def new_module(tmp_path: Path, monkeypatch, name: str, source: str):
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


def test_a_new_ranker_is_one_module_and_one_registry_line(
    tmp_path, monkeypatch, retriever, seed_index_dir, embedder
):
    module = new_module(tmp_path, monkeypatch, "retrieval_order", NEW_RANKER)
    # its refusal model, as train.fit_abstain would write it (here the heuristics' copied)
    shutil.copy(ABSTAIN_WEIGHTS, tmp_path / "retrieval_order_abstain.json")
    monkeypatch.setitem(RANKERS, "retrieval-order", lambda settings: module.RetrievalOrderRanker())
    check_ranker(ranker("retrieval-order", Settings()), retriever)
    engine = Engine(Settings(index_dir=seed_index_dir, ranker="retrieval-order"), embedder)
    assert isinstance(engine.backend.ranker, module.RetrievalOrderRanker)
    for question in QUESTIONS:
        check_contract(engine.ask(question))


def test_a_new_answer_backend_is_one_module_and_one_registry_line(
    tmp_path, monkeypatch, seed_index_dir, embedder
):
    module = new_module(tmp_path, monkeypatch, "quote", NEW_ANSWERER)
    monkeypatch.setitem(ANSWERERS, "quote", lambda settings, embedder: module.QuoteAnswerer())
    engine = Engine(Settings(index_dir=seed_index_dir, answerer="quote"), embedder)
    for question in QUESTIONS:
        check_contract(engine.ask(question))
    assert engine.ask(TROOPS).answer == "1,500"
