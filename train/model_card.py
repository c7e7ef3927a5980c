"""The model card written beside the trained cross-encoder (qa/models/cross/README.md)."""

from __future__ import annotations

from pathlib import Path

from index.smoothing import FILE
from qa.read.abstain import DEFAULT_BELOW
from qa.read.verify import VERIFIER_RECIPE, verifier_card

CARD = """# Cross-encoder reranker and reader (qa/models/cross)

What `qa` uses by default to rank the retrieved sentences and to read the short answer
from the best one (qa/read/cross.py). Retrain with `python -m train.train_cross` (docs/training.md).

- **Base**: {base}. Apache-2.0.
- **Heads**: relevance (a logit from [CLS], added to the untrained pipeline's logit for the
  sentence) and span (start and end logits per token; [CLS] means "no answer here"),
  trained together with one loss: per question, the listwise softmax cross-entropy of the
  summed logits over the pipeline's candidates, half their binary cross-entropy, and the
  mean of the start and end cross-entropies.
- **Input**: `[CLS] question [SEP] sentence [SEP]`, at most {max_length} tokens; spans of at
  most {max_answer_tokens} tokens; the {candidates} best sentences of the untrained
  pipeline are reranked per question.
- **Storage**: fp16 safetensors; answered on ONNX Runtime in fp32 (a graph exported once,
  index/graphs.py), or with `QA_ENCODER_RUNTIME=torch` in bfloat16 on CPUs that compute in
  it natively (AVX512-BF16 or AMX), fp32 elsewhere.

## Data
{qa}, split {split}. {questions} training questions gave {pairs} (question, sentence) pairs,
{positives} of them positive: sentences of the retrieved passages holding a gold answer,
and each question's evidence sentence (for the span head only when the pipeline does not
nominate it); the negatives are the other sentences among the untrained pipeline's best
{candidates} for the question, within {train_gap} of the best one's logit.{synthetic}{unanswerable}{look_alikes}{short}{followups} The
data is from SQuAD 1.1 (Rajpurkar et al., 2016; CC BY-SA 4.0); the weights, derived from it,
are shared under CC BY-SA 4.0 with this attribution.

## Training
`{command}` ({total_minutes} minutes in all, with retrieval{cached}, held-out figures and
the abstention fit).{started_from}

{epochs}{stopped}, batch {batch} pairs, AdamW (lr {lr}, linear warm-up over the first
tenth, then linear decay to zero at the end or at the time limit), {precision}, word
embeddings frozen, seed {seed}, on the CPU (2 cores): {minutes} minutes. Mean loss per
epoch: {losses}.

## Figures on the held-out groups ({heldout_questions} questions, never trained on)
| | untrained pipeline | trained |
|---|---|---|
| evidence hit@1 (answer-bearing sentence ranked first) | {hit1_before} | {hit1_after} |
| evidence hit@3 | {hit3_before} | {hit3_after} |
| short-answer F1 given the evidence sentence | {f1_heuristic} (fitted heuristic reader), {f1_pattern} (pattern heuristic) | {f1_trained} |

End-to-end figures (full pipeline, with abstention) are in docs/figures.md.

## Limits
English only; one sentence at a time, so an answer that spans two sentences is cut at the
sentence end; trained on encyclopaedia questions, so phrasing far from SQuAD's may score
lower.
"""


ANSWERABILITY = """
## Fine-tuned to tell answers from look-alikes
Then fine-tuned by `python -m train.answerability` (from `{started_from}`): {trained_on}
({held_out} articles held out: those of the SQuAD 2.0 file its refusals are measured on),
{pairs} pairs: each question's evidence sentence (its span to find), the paragraph's
sentence most like the question without the answer, the like from a sibling paragraph, and
look-alike questions made unanswerable by checked edits read with the evidence sentence
({kinds}). The span head learned "no answer" from every negative; the relevance head was
held to its scores above on the real pairs and taught to rank each look-alike at least
{margin} below its original. {epochs} epoch, batch {batch}, AdamW lr {lr}, {steps} steps in
{minutes} minutes, seed {seed}. The held-out figures above are those of the model before
this step; docs/figures.md has the end-to-end figures.
"""


def answerability_section(meta: dict) -> str:
    a = meta["answerability"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(a["look_alikes"].items()))
    return ANSWERABILITY.format(
        held_out=len(a["held_out_articles"]),
        kinds=kinds,
        **{k: a[k] for k in ("started_from", "trained_on", "pairs", "margin", "epochs",
                             "batch", "lr", "steps", "minutes", "seed")},
    )  # fmt: skip


# whose held-out figures an averaged model's meta.json holds: train.average copies them
HELDOUT_COPIED = "the trained model's, before averaging"
AVERAGED = """
## Averaged with the model it started from
The weights are {share} of the trained model's and {rest} of `{start}`'s
(`{command}`); the held-out figures above are {heldout_of}.
"""


def averaged_section(meta: dict) -> str:
    a = meta["averaged"]
    share = a["weight_of_trained"]
    return AVERAGED.format(
        share=share,
        rest=round(1 - share, 4),
        heldout_of=a.get("heldout_of", HELDOUT_COPIED),
        **{k: a[k] for k in ("start", "command")},
    )


def refusals_section(fitted: dict) -> str:
    """How the refusal model (abstain.json) was fitted: by train_cross, or refitted."""
    by = f"Refitted by `{fitted['command']}`" if "command" in fitted else "Fitted"
    below = (
        f"refuses below {fitted['below']}, the threshold fitted with it"
        if "below" in fitted
        else f"refuses below {DEFAULT_BELOW}, the threshold of a model fitted without one"
    )
    return (
        f"\n## Refusals (abstain.json)\n{by} on {fitted['fitted_on']}; the service {below} "
        "(unless QA_ABSTAIN_BELOW is set).\n"
    )


def int8_section(q: dict, what: str = "reader", file: str = FILE) -> str:
    """The int8 recipe of the reader or the verifier (``file``) made by train.quantize."""
    kept = ", ".join(q["keep_fp32"]) or "none"
    return (
        f"\n## int8 recipe of the {what} ({file})\nMade by `{q['command'].strip()}`: "
        f"SmoothQuant scales (alpha {q['alpha']}) from {q['calibration']}, the layers kept in "
        f"fp32: {kept}. On {q['checked_pairs']} other pairs the int8 {what} read the fp32 "
        f"{what}'s span on {q['same_span']:.1%} of them (plain int8: {q['plain_same_span']:.1%}) "
        f"in {q['time_of_fp32']}x its time. `QA_ENCODER_RUNTIME=int8`, and `auto` where the "
        "CPU suits it, read with it; the recipe names the weights it was made for and is not "
        "used beside others.\n"
    )


def verifier_section(v: dict) -> str:
    """The answerability verifier (verifier.safetensors) made by train.train_verifier."""
    on, tr, held = v["trained_on"], v["training"], v["heldout"]
    return (
        f"\n## Answerability verifier (verifier.safetensors)\nMade by `{v['command'].strip()}` "
        f"({v['total_minutes']} minutes in all): layers {v['from_layer']} and up and both heads "
        "trained again (the embeddings and the layers below are this reader's own, so it is "
        "used only beside these weights) on the question with the best sentence and its "
        f"neighbours, at most {v['max_length']} tokens: {on['examples']} examples in "
        f"{on['groups']} groups, {on['squad20_unanswerable']} of them SQuAD 2.0's real "
        "unanswerable train questions (Rajpurkar et al., 2018; CC BY-SA 4.0) each beside the "
        "answerable question it was written from on the same sentences, the others SQuAD 1.1 "
        f"train questions ({on.get('elsewhere', '?')} of them also on the most similar "
        f"sentences of another paragraph, unanswerable there), and {on.get('short', 0)} "
        "keyword-style short versions of answerable ones (train/keywords.py), answered as "
        "before" + same_words_text(on) + "; left out: "
        f"{on['left_out']}. {len(tr['loss_per_epoch'])} epochs"
        + (", the last cut short by the time limit" if tr.get("stopped_by_time_limit") else "")
        + f", batch {tr['batch']}, lr {tr['lr']}, seed {tr['seed']}, {tr['minutes']} minutes. "
        f"Refusal AUC of its logit on {held['examples']} examples of the calibration articles: "
        f"{held['auc']} ({before_text(held)}). The refusal model weighs it as the feature "
        '"verified"; its span head reads the short answer in the best sentence.'
        + went_on_text(v.get("continued_from"))
        + "\n"
    )


def same_words_text(on: dict) -> str:
    """The look-alikes made of the answer sentence's own words (train/same_words.py), if any."""
    if not (on.get("reversed") or on.get("counted")):
        return ""
    return (
        f", {on.get('reversed', 0)} look-alikes with two of the question's names reversed"
        + (
            f" (each read {on['reversed_read']} times an epoch)"
            if on.get("reversed_read", 1) > 1
            else ""
        )
        + f" and {on.get('counted', 0)} counting another thing than the question (train/same_words.py), "
        "unanswerable on its sentences"
    )


def before_text(held: dict) -> str:
    if "auc_started_from" in held:
        return f"the verifier it went on from: {held['auc_started_from']}"
    return f"the reader's relevance logit: {held['auc_reader_relevance']}"


def went_on_text(start: dict | None) -> str:
    """What a verifier trained further (``--from``) went on from."""
    if not start:
        return ""
    tr = start.get("training", {})
    how = (
        f" ({len(tr['loss_per_epoch'])} epochs, {tr['minutes']} minutes)"
        if "loss_per_epoch" in tr
        else ""
    )
    by = f"made by `{start['command'].strip()}`" if "command" in start else f"in {start['folder']}"
    return f" It went on training the verifier {by}{how}."


def started_from_text(started: dict) -> str:
    """What a model trained further (``--from``) started from."""
    trained = started.get("trained_on", {})
    what = (
        f", itself trained on {trained['questions']} questions of {trained['qa']}"
        if "questions" in trained
        else ""
    )
    by = f" by `{started['command']}`" if "command" in started else ""
    return f" It started from the weights of `{started['model']}`{what}{by}."


def write_card(out: Path, meta: dict) -> None:
    held, tr, trained = meta["heldout"], meta["training"], meta["trained_on"]
    text = CARD.format(
        base=meta["base"],
        command=meta.get("command", "python -m train.train_cross"),
        total_minutes=meta.get("total_minutes", "?"),
        max_length=meta["max_length"],
        max_answer_tokens=meta["max_answer_tokens"],
        candidates=meta["candidates"],
        train_gap=meta.get("train_gap", "any distance"),
        cached=" (the real questions' rankings read from `--cache`; about 4 minutes more without)"
        if "--cache" in meta.get("command", "")
        else "",
        qa=trained["qa"],
        split=trained["split"],
        questions=trained["questions"],
        pairs=trained["pairs"],
        positives=trained["positives"],
        synthetic=(
            f" The pairs include those of {trained['synthetic_questions']} synthetic questions: "
            "cloze-to-question rewritings of sentences of the training groups' documents "
            "around their names, numbers and dates (train/synthetic.py), labelled the same way."
        )
        if trained.get("synthetic_questions")
        else "",
        unanswerable=(
            f" And {trained['unanswerable_questions']} real unanswerable questions of SQuAD 2.0's "
            "train split (Rajpurkar et al., 2018; CC BY-SA 4.0; written by people to look "
            "answered by their paragraph; "
            "train.squad_collection --unanswerable): the sentence holding the answer a careless "
            'reader would give is a negative for each, its span "no answer", in the batch of '
            "the answerable question it was written from."
        )
        if trained.get("unanswerable_questions")
        else "",
        look_alikes=(
            f" And {trained['look_alike_questions']} look-alike questions the documents do not "
            "answer (a training question with a name, number, ordinal, antonym or a word it "
            "shares with its evidence swapped for one its paragraph does not hold, or a "
            "negation added: train/negatives.py): "
            + (
                "the sentence that answered its original question is a negative for it"
                if trained.get("look_alike_pairs") == "evidence"
                else "every sentence the pipeline nominates for one is a negative"
            )
            + ', its span "no answer".'
        )
        if trained.get("look_alike_questions")
        else "",
        short=(
            f" And {trained['short_questions']} short keyword-style versions of training "
            "questions (their wh-phrase and some of their words the evidence holds: "
            "train/keywords.py), with the same answers."
        )
        if trained.get("short_questions")
        else "",
        followups=(
            f" And {trained['followup_questions']} follow-up versions of training questions "
            "(completed with another question of their document and its answer, as a "
            "follow-up is read: train/followups.py), with the same answers."
        )
        if trained.get("followup_questions")
        else "",
        epochs=f"{len(tr['loss_per_epoch'])} epochs",
        stopped=", the last one cut short by the time limit"
        if tr.get("stopped_by_time_limit")
        else "",
        precision="bfloat16 autocast" if tr.get("bf16") else "fp32",
        batch=tr["batch"],
        lr=tr["lr"],
        seed=tr["seed"],
        minutes=tr["minutes"],
        losses=", ".join(str(x) for x in tr["loss_per_epoch"]),
        heldout_questions=held["questions"],
        hit1_before=held["evidence_hit@1_untrained"],
        hit1_after=held["evidence_hit@1_reranked"],
        hit3_before=held["evidence_hit@3_untrained"],
        hit3_after=held["evidence_hit@3_reranked"],
        f1_heuristic=held["reader_f1_given_evidence_heuristic"],
        f1_pattern=held["reader_f1_given_evidence_pattern"],
        f1_trained=held["reader_f1_given_evidence_trained"],
        started_from=started_from_text(meta["started_from"]) if "started_from" in meta else "",
    )
    if "answerability" in meta:
        text += answerability_section(meta)
    if "averaged" in meta:
        text += averaged_section(meta)
    if "refusals" in meta:
        text += refusals_section(meta["refusals"])
    if "int8" in meta:
        text += int8_section(meta["int8"])
    if (verifier := verifier_card(out)) is not None:
        text += verifier_section(verifier)
        if "int8" in verifier:
            text += int8_section(verifier["int8"], "verifier", VERIFIER_RECIPE)
    (out / "README.md").write_text(text, encoding="utf-8")
