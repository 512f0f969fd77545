"""Documents built at once in one process (two console jobs: a dossier and a certificate,
two dossiers) each come out whole. reportlab keeps the glyphs each document uses in the
embedded font's ``TTFont``, shared by the process; two builds in two threads corrupted it
(a KeyError in its ``makeSubset``: the dossier test's two-builds case failed so once), so
``reports.fonts.BUILDING`` lets one document build at a time. Without the lock this test
fails in every run on this machine (1–4 of its 30 builds)."""

from __future__ import annotations

import random
import threading
import traceback
from pathlib import Path

from handover.notices.letters import write_pdf as write_letter
from handover.reports.pdf import build, kit


def _text(rnd: random.Random, n: int) -> str:
    """``n`` random CJK characters: many glyphs, so the two documents' subsets differ."""
    return "".join(chr(rnd.randrange(0x4E00, 0x9FA5)) for _ in range(n))


def test_two_threads_building_documents_with_the_embedded_font(tmp_path: Path) -> None:
    errors: list[str] = []
    made: list[Path] = []
    gate = threading.Barrier(2)

    def work(seed: int) -> None:
        rnd = random.Random(seed)
        k = kit(embed=True)
        gate.wait()
        for j in range(15):
            text = _text(rnd, 600)
            story = [k.p(text[i : i + 60], k.body) for i in range(0, len(text), 60)]
            path = tmp_path / f"{seed}-{j}.pdf"
            try:
                if j % 3 == 2:  # a notice letter goes through its own builder
                    write_letter(path, story, title="t", footer="f")
                else:
                    build(path, story, title="t", font=k.font)
                made.append(path)
            except Exception as exc:
                errors.append("".join(traceback.format_exception(exc)[-3:]))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len(made) == 30
    for path in made:
        data = path.read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert b"/FontFile2" in data  # the TrueType subset, embedded
