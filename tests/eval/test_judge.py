"""Tests of the support judges: rules, scorer, weights file, validation, LLM plug-in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
import pytest
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback

from eval.judge import OfflineJudge, SupportJudge, SupportVerdict, validate_judge
from eval.judge.features import FEATURE_NAMES, content_stems, lexical_features, numbers
from eval.judge.llm import LLMJudge, parse_reply
from eval.judge.offline import WEIGHTS_PATH, ScorerWeights, quoted_fragments
from eval.judge.validation import load_scifact_pairs, recorded_heldout_indices


def bag_of_stems_embed(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in for MiniLM: hashed bag of content stems, so
    texts sharing words are similar and unit tests need no model."""
    vectors = np.zeros((len(texts), 256))
    for row, text in enumerate(texts):
        for stem in content_stems(text):
            vectors[row, int(hashlib.sha256(stem.encode()).hexdigest(), 16) % 256] += 1.0
    return vectors


def refusing_embed(texts: list[str]) -> np.ndarray:
    raise AssertionError("the verbatim rule should decide without embedding anything")


@pytest.fixture(scope="module")
def judge() -> OfflineJudge:
    return OfflineJudge(embed=bag_of_stems_embed)


EVIDENCE = [
    "In the randomised trial of 412 patients, treatment with drug X reduced mortality by 30% compared with placebo.",
    "Overall, serious adverse events were rare in both groups.",
]


def test_offline_judge_satisfies_the_protocol(judge: OfflineJudge) -> None:
    assert isinstance(judge, SupportJudge)


def test_verbatim_quote_with_citation_markers_and_ellipses_is_supported() -> None:
    judge = OfflineJudge(embed=refusing_embed)
    claim = "Treatment with drug X reduced mortality by 30% [1] … serious adverse events were rare [2]."
    assert judge.judge(claim, EVIDENCE) == SupportVerdict(supported=True, score=1.0, method="verbatim")
    ascii_ellipsis = "In the randomised trial of 412 patients [1]... reduced mortality by 30%[12]"
    assert judge.judge(ascii_ellipsis, EVIDENCE).method == "verbatim"


def test_verbatim_check_handles_chinese_and_respects_word_edges() -> None:
    judge = OfflineJudge(embed=refusing_embed)
    assert judge.judge("该药物显著降低了死亡率[1]。", ["研究表明，该药物显著降低了死亡率。"]).supported
    assert quoted_fragments("A [1] … b … [2]") == ["A", "b"]
    # "reduced mortality" must not match inside "unreduced mortality".
    scoring_judge = OfflineJudge(embed=bag_of_stems_embed)
    assert scoring_judge.judge("reduced mortality", ["The unreduced mortality rose."]).method == "offline-scorer"


def test_nothing_cited_or_nothing_claimed_is_not_supported(judge: OfflineJudge) -> None:
    assert judge.judge("Drug X reduced mortality.", []) == SupportVerdict(False, 0.0, "verbatim")
    assert judge.judge("[1] …", EVIDENCE).supported is False


def test_faithful_paraphrase_scores_above_wrong_number_and_wrong_citation(judge: OfflineJudge) -> None:
    paraphrase = "Drug X treatment reduced mortality by 30% in a randomised trial of 412 patients [1]."
    wrong_number = "Drug X treatment reduced mortality by 45% in a randomised trial of 412 patients [1]."
    wrong_citation = ["The cohort was followed for a median of five years in rural clinics."]
    faithful = judge.judge(paraphrase, EVIDENCE)
    assert faithful.supported and faithful.method == "offline-scorer"
    wrong = judge.judge(wrong_number, EVIDENCE)
    assert not wrong.supported
    assert wrong.score < faithful.score
    assert not judge.judge(paraphrase, wrong_citation).supported


def test_negation_mismatch_lowers_the_score(judge: OfflineJudge) -> None:
    evidence = ["Vitamin D supplementation reduced fracture risk in elderly women."]
    plain = judge.judge("Vitamin D supplementation lowered fracture risk in elderly women.", evidence)
    negated = judge.judge("Vitamin D supplementation did not lower fracture risk in elderly women.", evidence)
    assert negated.score < plain.score
    assert not negated.supported
    chinese = judge.explain("维生素D补充没有降低骨折风险。", ["维生素D补充降低了骨折风险。"])
    assert chinese["negation_claim_only"] == 1.0


def test_number_and_identifier_extraction() -> None:
    assert numbers("Of the 32,441 samples 16 (95% CI 0.50 to 1.2) were positive.") == {"32441", "16", "95", ".5", "1.2"}
    # Digits inside names are identifiers, not quantities.
    assert numbers("CD8 T cells, HIV-1, H3K9me3 and NIH 3T3 cells") == set()
    assert lexical_features("Mortality fell 76%.", "Mortality fell 76.3%.")["number_coverage"] == 1.0


def test_weights_file_loads_with_the_expected_features() -> None:
    weights = ScorerWeights.load()
    assert 0.0 < weights.threshold < 1.0
    assert set(weights.grounding.feature_names) | set(weights.consistency.feature_names) <= set(FEATURE_NAMES)
    assert "embedding_cosine" in weights.grounding.feature_names
    assert {"negation_claim_only", "negation_evidence_only"} <= set(weights.consistency.feature_names)
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert data["feature_names"] == list(FEATURE_NAMES)
    assert data["embedding_model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    split = data["training"]["split"]
    assert split["train_size"] + split["heldout_size"] == len(load_scifact_pairs()) == 564
    assert len(recorded_heldout_indices()) == split["heldout_size"]


def test_missing_weights_file_says_how_to_fix_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="python -m eval.judge.train"):
        OfflineJudge(weights_path=tmp_path / "weights.json", embed=bag_of_stems_embed)


@pytest.mark.integration
def test_validation_on_heldout_split_with_the_real_model() -> None:
    validation = validate_judge(OfflineJudge())
    assert validation.split == "heldout"
    assert validation.n == validation.positives + validation.negatives == 226
    for metric in (validation.accuracy, validation.balanced_accuracy, validation.roc_auc):
        assert 0.0 <= metric <= 1.0
    # Chance is 0.5; the judge must at least rank better than a coin.
    assert validation.roc_auc > 0.5
    assert "ROC AUC" in validation.summary()


class ScriptedLLM(CustomLLM):
    """Replies from a script and records the prompts it was sent."""

    replies: list[str]
    prompts: list[str] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: object) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.replies[len(self.prompts) - 1])

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: object):
        raise NotImplementedError


def _judge_with(replies: Sequence[str]) -> tuple[LLMJudge, ScriptedLLM]:
    llm = ScriptedLLM(replies=list(replies), prompts=[])
    return LLMJudge(llm), llm


def test_llm_judge_maps_replies_to_verdicts() -> None:
    judge, llm = _judge_with(["SUPPORTED", "not_supported.", "Answer: NOT SUPPORTED"])
    claim = "Drug X cut deaths by nearly a third [1]."
    assert judge.judge(claim, EVIDENCE) == SupportVerdict(True, 1.0, "llm")
    assert judge.judge(claim, EVIDENCE) == SupportVerdict(False, 0.0, "llm")
    assert judge.judge(claim, EVIDENCE).supported is False
    prompt = llm.prompts[0]
    assert "Drug X cut deaths by nearly a third." in prompt and "[1]" not in prompt.split("Answer sentence:")[1]
    assert f"[2] {EVIDENCE[1]}" in prompt and "SUPPORTED or NOT_SUPPORTED" in prompt


def test_llm_judge_skips_the_call_for_verbatim_quotes_and_rejects_unclear_replies() -> None:
    judge, llm = _judge_with(["I am not sure."])
    assert judge.judge("serious adverse events were rare [2]", EVIDENCE).method == "verbatim"
    assert llm.prompts == []
    with pytest.raises(ValueError, match="neither SUPPORTED nor NOT_SUPPORTED"):
        judge.judge("Drug X is safe.", EVIDENCE)
    assert parse_reply("unsupported") is False


def test_judge_prompt_has_only_the_claim_and_evidence_placeholders() -> None:
    from string import Formatter

    from eval.judge.llm import JUDGE_TEMPLATE_PATH

    fields = {name for _, name, _, _ in Formatter().parse(JUDGE_TEMPLATE_PATH.read_text(encoding="utf-8")) if name}
    assert fields == {"claim", "evidence"}
