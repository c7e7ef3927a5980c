from eval.data import QAItem
from index.store import load_index
from train.cross_data import make_pairs


def test_pairs_keep_the_nominees_within_the_gap_and_the_missed_evidence(seed_index_dir):
    index = load_index(seed_index_dir)
    evidence = next(
        index.sentence_text(i) for i in range(len(index.sentences))
        if "1,500" in index.sentence_text(i)
    )  # fmt: skip
    others = [i for i in range(len(index.sentences)) if "1,500" not in index.sentence_text(i)]
    item = QAItem("q", "How many troops were shipped?", ("1,500",), "seed", evidence)
    # logits 2.2, 1.4, -1.4, -4.6: within 3 of the best, the first two
    ranked = [(others[0], 0.9), (others[1], 0.8), (others[2], 0.2), (others[3], 0.01)]

    pairs = make_pairs([item], [ranked], index, candidates=6, gap=3.0)
    assert [p.sentence for p in pairs if p.ranked] == [index.sentence_text(i) for i in others[:2]]
    assert not any(p.label for p in pairs if p.ranked)
    # the evidence sentence, not nominated, still teaches the span head where the answer is
    (missed,) = [p for p in pairs if not p.ranked]
    assert missed.label and missed.sentence[missed.answer[0] : missed.answer[1]] == "1,500"

    everything = make_pairs([item], [ranked], index, candidates=6)
    assert sum(p.ranked for p in everything) == 4
