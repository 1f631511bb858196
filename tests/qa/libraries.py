"""A small mixed-language library shared by the retrieval tests: English reports and one Chinese one."""

from __future__ import annotations

from index.documents import Document

_ENGLISH = (
    "The harbour authority dredged the northern channel in {n}. Ferries now dock at the new pier. Cargo volumes were stable.",
    "The orchard planted {n} pear trees on the south slope. Frost damaged the blossoms in April. The harvest was small.",
)
# The first English report's subject, in Chinese.
CHINESE_REPORT = Document(id="zh-report", text="港务局在去年疏浚了北航道。渡轮现在停靠新码头。货运量保持稳定。")


def english_reports(count: int, subjects: int = 2) -> list[Document]:
    """`count` English reports, `en-0`…, cycling over the first `subjects` subjects, each with its own year."""
    return [Document(id=f"en-{n}", text=_ENGLISH[n % subjects].format(n=2000 + n)) for n in range(count)]
