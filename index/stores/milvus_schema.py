"""The collections of an index kept in Milvus, all named under one prefix.

``{prefix}_documents``  one row per part of a document version (a document's text is cut
                        into parts that fit a VARCHAR); part 0 is its head: title, hash,
                        provenance, counts and ``state``, the completeness marker
``{prefix}_sentences``  doc key, seq, start, end, text, flagged, vector, BM25 terms
``{prefix}_passages``   doc key, first/last sentence seq, start, end, text with the title,
                        vector, BM25 terms
``{prefix}_meta``       the manifest (model, dim, chunking), the epoch (changed at every
                        commit, so replicas know when to read the heads again) and the
                        batches committed whose heads are not all marked live yet

Every row of a document version carries its ``key`` (document hash + version); searches keep
only the keys of visible heads (index.stores.milvus). BM25 is Milvus's own
(``FunctionType.BM25`` over ``terms``); ``terms`` holds index.tokens' stemmed terms, made
single tokens for any analyzer, so Milvus counts the words bm25s counts."""

from __future__ import annotations

import re

DOCUMENT_PART_CHARS = 16_000  # at most 64,000 bytes of UTF-8: under a VARCHAR's 65,535
VARCHAR = 65_535
KINDS = ("documents", "sentences", "passages", "meta")


def names(prefix: str) -> dict[str, str]:
    return {kind: f"{prefix}_{kind}" for kind in KINDS}


_NOT_WORD = re.compile(r"\W")


def encode_terms(terms: list[str]) -> str:
    """Terms as one analyzer input: "1,500" becomes "1_2c_500" so no tokenizer splits it."""
    return " ".join(_NOT_WORD.sub(lambda m: f"_{ord(m.group()):x}_", t) for t in terms)


def load_collections(client, prefix: str) -> bool:
    """Load the collections into memory (Milvus leaves them released after a restart);
    False when there are none."""
    collections = [n for n in names(prefix).values() if client.has_collection(n)]
    for name in collections:
        client.load_collection(name)
    return bool(collections)


def create_collections(client, prefix: str, dim: int) -> None:
    """Create whatever collection is missing (idempotent)."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    def schema():
        return MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)

    def placeholder_vector(s, params) -> None:
        # Milvus wants a vector field in every collection; these hold none of meaning
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        params.add_index("_v", index_type="FLAT", metric_type="L2")

    def unit_fields(s, params) -> None:
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("key", DataType.VARCHAR, max_length=64)
        s.add_field("doc", DataType.VARCHAR, max_length=64)
        s.add_field("seq", DataType.INT64)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("text", DataType.VARCHAR, max_length=VARCHAR)
        s.add_field("terms", DataType.VARCHAR, max_length=VARCHAR, enable_analyzer=True)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        s.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        params.add_index("vector", index_type="FLAT", metric_type="IP")
        # bm25s's defaults (k1 1.5, b 0.75), so the two stores rank alike
        params.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": 1.5, "bm25_b": 0.75},
        )

    collections = names(prefix)
    for kind, name in collections.items():
        if client.has_collection(name):
            continue
        s, params = schema(), client.prepare_index_params()
        if kind == "documents":
            s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=128)
            s.add_field("key", DataType.VARCHAR, max_length=64)
            s.add_field("doc", DataType.VARCHAR, max_length=64)
            s.add_field("doc_id", DataType.VARCHAR, max_length=4096)
            s.add_field("part", DataType.INT64)
            s.add_field("parts", DataType.INT64)
            s.add_field("state", DataType.VARCHAR, max_length=16)
            s.add_field("batch", DataType.VARCHAR, max_length=32)
            s.add_field("committed_at", DataType.INT64)
            s.add_field("title", DataType.VARCHAR, max_length=4096)
            s.add_field("sha256", DataType.VARCHAR, max_length=64)
            s.add_field("uploaded", DataType.BOOL)
            s.add_field("added_by", DataType.VARCHAR, max_length=256)
            s.add_field("added_at", DataType.VARCHAR, max_length=32)
            s.add_field("chars", DataType.INT64)
            s.add_field("sentences", DataType.INT64)
            s.add_field("passages", DataType.INT64)
            s.add_field("flagged", DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=VARCHAR)
            placeholder_vector(s, params)
        elif kind == "meta":
            s.add_field("name", DataType.VARCHAR, is_primary=True, max_length=64)
            s.add_field("value", DataType.VARCHAR, max_length=VARCHAR)
            placeholder_vector(s, params)
        else:
            unit_fields(s, params)
            if kind == "sentences":
                s.add_field("flagged", DataType.BOOL)
            else:
                s.add_field("first", DataType.INT64)
                s.add_field("last", DataType.INT64)
        # Strong: a search sees every write acknowledged before it, whichever replica wrote
        client.create_collection(name, schema=s, index_params=params, consistency_level="Strong")
