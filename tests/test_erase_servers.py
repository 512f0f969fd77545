"""handover shred on PostgreSQL and MariaDB: tables dropped, rows deleted and rewritten, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa


def _run(workspace: Any, url: str, tmp_path: Path) -> None:
    from handover.erase import Scope, shred
    from handover.synth import synthesize

    synthesize(url, customers=120, seed=5, truth_path=str(tmp_path / "truth.json"))
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT zjhm FROM cust_info"))]
        kept_before = conn.execute(
            sa.text("SELECT COUNT(*) FROM loan_iou WHERE iou_id % 3 = 0")
        ).scalar()
    rules = tmp_path / "retain.toml"
    rules.write_text(
        '[[retain]]\ntables = ["loan_iou"]\nbasis = "aml"\nwhere = "iou_id % 3 = 0"\n'
        '[[retain]]\ntables = ["org_branch"]\nbasis = "accounting"\n',
        encoding="utf-8",
    )
    result = shred(
        workspace,
        Scope(source=url, media=["source"], retention=rules),
        force=True,
        reason="测试:无迁移 / test without a migration",
        seed=9,
    )
    assert result.passed and result.found == 0 and result.samples >= 40
    src = next(c for c in result.verification["checks"] if c["what"] == "source")
    assert src["method"] == "sql-table-data"
    steps = " ".join(src["steps"])
    assert "DROP TABLE" in steps and "DELETE FROM" in steps
    assert ("VACUUM FULL" in steps) if "postgresql" in url else ("OPTIMIZE TABLE" in steps)
    left = set(sa.inspect(engine).get_table_names())
    assert left == {"loan_iou", "org_branch"}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM loan_iou")).scalar() == kept_before
        assert conn.execute(sa.text("SELECT COUNT(*) FROM org_branch")).scalar() == 12
        text = " ".join(str(v) for r in conn.execute(sa.text("SELECT * FROM loan_iou")) for v in r)
    assert not any(i in text for i in ids)
    kept = {
        r["subject"].split("#")[-1] for r in result.certificate["retained"] if "#" in r["subject"]
    }
    assert kept == {"loan_iou", "org_branch"}
    engine.dispose()


@pytest.mark.postgres
def test_shred_postgresql(workspace: Any, pg_url: str, tmp_path: Path) -> None:
    _run(workspace, pg_url, tmp_path)


@pytest.mark.mariadb
def test_shred_mariadb(workspace: Any, mariadb_url: str, tmp_path: Path) -> None:
    _run(workspace, mariadb_url, tmp_path)
