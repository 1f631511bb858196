from index.corpus import bundled_document
from index.documents import Document
from index.splitting import detect_language, split_document

EXPECTED_ENGLISH_STARTS = [
    "Juvenile dermatomyositis is a rare systemic inflammatory autoimmune disease",
    "Most patients do not fully respond to initial therapy",
    "Pathogenesis is not completely understood",
    "There are limited randomized controlled trials of drugs in juvenile dermatomyositis (JDM)",
    "These data have been compiled into expert recommendations",
    "While initial therapy is more standard",
    "There is a clear need for more efficacious and personalized therapy in JDM.",
    "Emerging treatment options worthy of further study in JDM",
]
EXPECTED_CHINESE = [
    "幼年皮肌炎是一种罕见的累及肌肉、皮肤和血管的系统性炎症性自身免疫性疾病。",
    "大多数患者对初始治疗反应不完全,而是呈现慢性难治性或多循环病程。",
    "发病机制尚未完全明确,但已描述了免疫细胞失调,尤其是B细胞失调、线粒体功能障碍、中性粒细胞及中性粒细胞胞外陷阱(NETs)的变化,以及I型和II型干扰素(IFN)信号传导增加。",
    "幼年皮肌炎(JDM)药物的随机对照试验有限,治疗很大程度上基于病例系列、回顾性研究和开放标签前瞻性研究等质量较低的数据。",
    "这些数据已被汇编成专家建议或共识治疗方案,以帮助指导治疗。",
    "虽然初始治疗大多较为标准,包括使用皮质类固醇(大剂量口服和/或静脉注射甲泼尼龙脉冲疗法)和甲氨蝶呤,但对于难治性患者,指南的选择更多样化,有多种选择或联合治疗,包括生物疗法。",
    "JDM显然需要更有效和个性化的治疗。",
    "JDM中值得进一步研究的新兴治疗选择包括靶向IFN信号传导(JAK、IFNAR1、IFNβ)、B细胞(CD20、CD19、BAFF、TACI、CD38、BCMA),包括嵌合抗原受体(CAR)-T细胞疗法、线粒体功能障碍和NETs。",
]


def _bundled():
    document = bundled_document()
    return document, split_document(document)


def test_bundled_corpus_segmentation_is_pinned():
    _, sentences = _bundled()
    metadata = [s for s in sentences if s.kind == "metadata"]
    english = [s for s in sentences if s.kind == "body" and s.language == "en"]
    chinese = [s for s in sentences if s.language == "zh"]
    assert [s.text for s in metadata] == [
        "Kim Hanna",
        "National Institute of Arthritis Musculoskeletal and Skin Diseases, National Institutes of Health, Bethesda, MD, USA.",
        "Paediatr Drugs. 2025 Jan;27(1):57-72. doi: 10.1007/s40272-024-00658-2. Epub 2024 Oct 19.",
    ]
    assert len(english) == 8 and len(chinese) == 8
    for sentence, start in zip(english, EXPECTED_ENGLISH_STARTS, strict=True):
        assert sentence.text.startswith(start)
    assert english[-1].text.endswith("mitochondrial dysfunction, and NETs.")
    assert [s.text for s in chinese] == EXPECTED_CHINESE


def test_offsets_point_into_the_document_text():
    document, sentences = _bundled()
    for sentence in sentences:
        assert document.text[sentence.start : sentence.end] == sentence.text
    assert [s.ordinal for s in sentences] == list(range(len(sentences)))


def test_ids_are_stable_and_new_for_every_document_version():
    document, first = _bundled()
    second = split_document(bundled_document())
    assert [s.id for s in first] == [s.id for s in second]
    assert len({s.id for s in first}) == len(first)
    edited = document.model_copy(update={"text": document.text.replace("rare systemic", "rare, systemic")})
    # A new version is written beside the old one before the switch (index/store.py): no ID may be shared.
    assert not {s.id for s in split_document(edited)} & {s.id for s in first}


def test_a_run_without_sentence_breaks_is_cut_into_bounded_sentences():
    text = "Lead sentence here. " + "word " * 5000 + "Tail sentence."
    document = Document(id="long", text=text)
    sentences = split_document(document, max_sentence_chars=1000)
    assert max(len(s.text) for s in sentences) <= 1000
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert sentences[0].text == "Lead sentence here." and sentences[-1].text.endswith("Tail sentence.")


def test_translation_pairs_are_linked_both_ways():
    _, sentences = _bundled()
    by_id = {s.id: s for s in sentences}
    english = [s for s in sentences if s.kind == "body" and s.language == "en"]
    chinese = [s for s in sentences if s.language == "zh"]
    for en, zh in zip(english, chinese, strict=True):
        assert en.parallel_id == zh.id and zh.parallel_id == en.id
        assert by_id[en.parallel_id].language == "zh"
    assert all(s.parallel_id is None for s in sentences if s.kind == "metadata")


def test_biomedical_abbreviations_do_not_split():
    text = (
        "Smith et al. reported a 3.5-fold increase (p < 0.05) in JDM, e.g. in children. "
        "The dose was 2.5 mg/kg i.v. vs. placebo (Fig. 2). Interferon (IFN) signaling rose."
    )
    sentences = split_document(Document(id="d", text=text))
    assert [s.text for s in sentences] == [
        "Smith et al. reported a 3.5-fold increase (p < 0.05) in JDM, e.g. in children.",
        "The dose was 2.5 mg/kg i.v. vs. placebo (Fig. 2).",
        "Interferon (IFN) signaling rose.",
    ]


def test_citation_line_stays_whole_and_chinese_ends_at_full_and_ascii_marks():
    text = "Paediatr Drugs. 2025 Jan;27(1):57-72. doi: 10.1007/s40272-024-00658-2.\n第一句。第二句！第三句?“引用。”最后"
    sentences = split_document(Document(id="d", text=text))
    assert [s.text for s in sentences] == [
        "Paediatr Drugs. 2025 Jan;27(1):57-72. doi: 10.1007/s40272-024-00658-2.",
        "第一句。",
        "第二句！",
        "第三句?",
        "“引用。”",
        "最后",
    ]


def test_hard_wrapped_lines_are_joined_but_offsets_stay_exact():
    text = "The treatment of juvenile\ndermatomyositis is varied. A second\nsentence follows."
    sentences = split_document(Document(id="d", text=text))
    assert len(sentences) == 2
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_language_detection():
    assert detect_language("JDM显然需要更有效和个性化的治疗。") == "zh"
    assert detect_language("There is a clear need for more efficacious therapy in JDM.") == "en"
