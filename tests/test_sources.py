import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import make_recipe
from pipeline.recipe import RecipeError, load_recipe
from pipeline.rules import load_rulebook
from pipeline.sources import load_prompts


def _load(path):
    recipe = load_recipe(path)
    return load_prompts(recipe, load_rulebook(recipe.rulebook_path))


def test_bad_rows_are_skipped_and_counted(tmp_path):
    path = make_recipe(tmp_path, limits={"max_prompt_chars": 4000})
    with open(tmp_path / "benign.jsonl", "ab") as f:
        f.write(b'{"prompt": ""}\n')                         # empty
        f.write(b'{"prompt": 42}\n')                         # not a string
        f.write(b'{"prompt": "' + b"a" * 5000 + b'"}\n')     # over max_prompt_chars
        f.write(b'{"prompt": "caf\xe9 au lait"}\n')          # invalid UTF-8
        f.write(b'{"prompt": "unterminated\n')               # broken JSON
        f.write(b'["a list"]\n')                             # not an object
        f.write(b'{"text": "no prompt column"}\n')           # missing
        f.write(b'{"prompt": "How do I kill a Python process?"}\n')   # duplicate of an earlier row
        f.write(b'{"prompt": "Fine prompt", "category": "astrology"}\n')
    prompts, report = _load(path)
    assert report.skipped == {"empty": 1, "not_a_string": 1, "too_long": 1, "undecodable": 1, "malformed_row": 2,
                              "missing": 1, "duplicate_prompt": 1, "unknown_category": 1}
    assert len(prompts) == 12 and report.used == 12 and report.read == 21


def test_csv_and_parquet_sources(tmp_path):
    (tmp_path / "p.csv").write_bytes(b"prompt,kind,category\n\"Hello, world?\",benign,fraud\nbad \xff row,benign,\n"
                                     b"What is 2+2?,reasoning,\n")
    pq.write_table(pa.table({"prompt": ["Parquet prompt", None], "kind": ["benign", "benign"]}), tmp_path / "p.parquet")
    path = make_recipe(tmp_path, sources=[
        {"name": "c", "path": "p.csv", "kind": "per_row", "columns": {"kind": "kind"}},
        {"name": "p", "path": "p.parquet", "kind": "per_row", "columns": {"kind": "kind"}}])
    prompts, report = _load(path)
    assert [p.text for p in prompts] == ["Hello, world?", "Parquet prompt"]
    assert prompts[0].category == "fraud" and prompts[0].kind == "benign"
    assert report.skipped == {"undecodable": 1, "missing_reference": 1, "missing": 1}


def test_seeded_sampling_is_stable(tmp_path):
    rows = [{"prompt": f"Question number {i}?"} for i in range(50)]
    (tmp_path / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    src = [{"name": "many", "path": "many.jsonl", "kind": "benign", "sample": 10}]
    a, rep = _load(make_recipe(tmp_path, sources=src))
    b, _ = _load(make_recipe(tmp_path, sources=src))
    c, _ = _load(make_recipe(tmp_path, sources=src, seed=8))
    assert [p.id for p in a] == [p.id for p in b] and len(a) == 10 and rep.not_sampled == 40
    assert [p.id for p in a] != [p.id for p in c]


def test_hub_dataset_path_is_real_code(tmp_path):
    """No hub here: the Hub branch must fail loudly (not silently yield nothing)."""
    path = make_recipe(tmp_path, sources=[{"name": "hub", "dataset": "someone/does-not-exist", "kind": "benign"}])
    with pytest.raises(Exception):
        _load(path)


def test_a_json_array_source_is_read_item_by_item(tmp_path):
    """Public prompt sets often ship as one (pretty-printed) JSON array. Its items are rows like JSON Lines rows, a
    non-object item is a bad row; an array that stops being JSON is an error naming the source and the line."""
    rows = [{"question": "What is the boiling point of water at sea level?"}, ["not an object"],
            {"question": "Name a prime number above 10."}, {"text": "no prompt column"}]
    (tmp_path / "arr.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(rows, indent=2).encode())
    src = [{"name": "arr", "path": "arr.json", "kind": "benign", "columns": {"prompt": "question"}}]
    prompts, report = _load(make_recipe(tmp_path, sources=src))
    assert [p.text for p in prompts] == [rows[0]["question"], rows[2]["question"]]
    assert report.skipped == {"malformed_row": 1, "missing": 1} and report.read == 4
    (tmp_path / "lines.jsonl").write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    lines, report = _load(make_recipe(tmp_path, sources=[{**src[0], "path": "lines.jsonl"}]))
    assert [p.text for p in lines] == [p.text for p in prompts] and report.skipped == {"malformed_row": 1, "missing": 1}
    (tmp_path / "arr.json").write_text('[\n  {"question": "Fine?"},\n  {"question": "Broken\n]\n')
    with pytest.raises(RecipeError) as e:
        _load(make_recipe(tmp_path, sources=src))
    assert "sources[0]" in str(e.value) and "arr.json" in str(e.value) and "line 3: not valid JSON" in str(e.value)


def test_gzip_compressed_sources_are_read(tmp_path):
    """`rows.jsonl.gz` and `rows.csv.gz` are read as JSON Lines and CSV; a `.parquet.gz` is no format."""
    import gzip

    rows = [{"prompt": "What is the boiling point of water at sea level?"}, {"prompt": "Name a prime above 10."}]
    (tmp_path / "rows.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    (tmp_path / "rows.csv.gz").write_bytes(gzip.compress(b"prompt\nHow many legs does a spider have?\n"))
    prompts, report = _load(make_recipe(tmp_path, sources=[
        {"name": "j", "path": "rows.jsonl.gz", "kind": "benign"}, {"name": "c", "path": "rows.csv.gz", "kind": "benign"}]))
    assert [p.text for p in prompts] == [r["prompt"] for r in rows] + ["How many legs does a spider have?"]
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(b'{"prompt": "x"}\n' * 50)[:30])     # truncated
    with pytest.raises(RecipeError) as e:
        _load(make_recipe(tmp_path, sources=[{"name": "cut", "path": "cut.jsonl.gz", "kind": "benign"}]))
    assert "source 'cut': cannot read" in str(e.value) and "cut.jsonl.gz" in str(e.value)
    (tmp_path / "rows.parquet.gz").write_bytes(b"")
    with pytest.raises(RecipeError) as e:
        _load(make_recipe(tmp_path, sources=[{"name": "p", "path": "rows.parquet.gz", "kind": "benign"}]))
    assert "cannot infer the format of rows.parquet.gz" in str(e.value)
