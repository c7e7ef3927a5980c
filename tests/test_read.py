import logging

from index.read import read_documents


def test_non_utf8_file_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Paris is the capital of France.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n\nBerlin is big.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 cr\xe8me")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text("Rome is old.", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = read_documents([tmp_path])
    assert sorted(d.doc_id for d in docs) == ["good.txt", "notes.md", "sub/deep.txt"]
    assert any("bad.txt" in r.getMessage() for r in caplog.records)


def test_bom_is_kept_in_the_text_but_not_in_a_sentence(tmp_path):
    from index.split import split_sentences

    (tmp_path / "bom.txt").write_bytes("\ufeffHello there.".encode("utf-8"))
    [doc] = read_documents([tmp_path])
    assert doc.text == (tmp_path / "bom.txt").read_text(encoding="utf-8")
    [span] = split_sentences(doc.text)
    assert doc.text[span.start : span.end] == "Hello there."
