"""The taxonomy table: tiers → levels, masking rules, and docs/taxonomy.md kept in sync."""

from __future__ import annotations

from pathlib import Path

from handover.synth.schema import PII_TYPES
from handover.taxonomy import TAXONOMY, get, level_of, markdown, mask_value, strongest_tier


def test_docs_generated_from_table() -> None:
    doc = Path(__file__).parents[1] / "docs" / "taxonomy.md"
    assert doc.read_text("utf-8") == markdown(), (
        "run: python -m handover.taxonomy > docs/taxonomy.md"
    )


def test_required_types_and_levels() -> None:
    # every type the synthetic loan book's truth uses (the scan's targets) has a row
    assert set(PII_TYPES) <= {p.name for p in TAXONOMY}
    assert [level_of(t) for t in ("C3", "C2", "C1", None)] == [4, 3, 2, 1]
    for p in TAXONOMY:
        assert p.level == {"C3": 4, "C2": 3, "C1": 2}[p.tier]
    assert {p.name for p in TAXONOMY if p.tier == "C3"} == {
        "password_hash",
        "pin",
        "cvn",
        "auth_token",
    }
    assert get("cn_resident_id").sensitive and get("bank_card").sensitive
    assert not get("cn_mobile").sensitive
    assert strongest_tier(["cn_mobile", "pin"]) == "C3"
    assert strongest_tier([]) is None


def test_masking_rules() -> None:
    assert mask_value("cn_resident_id", "11010519491231002X") == "110105********002X"
    assert mask_value("cn_mobile", "13812345678") == "138****5678"
    assert mask_value("bank_card", "6228480402564890018") == "622848*********0018"
    assert mask_value("person_name", "张三丰") == "张**"
    assert mask_value("person_name", "欧阳娜娜") == "欧阳**"
    assert mask_value("email", "zhang@163.com") == "z***@163.com"
    assert mask_value("address", "浙江省杭州市西湖区文三路100号") == "浙江省杭州市西湖区****"
    assert mask_value("pin", "123456") == "[redacted]"
    assert mask_value("ip_address", "192.168.1.20") == "192.168.*.*"
    assert "保留前 6 位" in get("cn_resident_id").mask.describe("zh-CN")
