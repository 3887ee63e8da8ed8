"""The PostgreSQL engine's schema and the SQL beside its documents and chunks.

`schema.py` holds the format versions and their upgrade in place, `tables.py` makes and upgrades
an index's tables and keeps its manifest; `writing.py`, `reading.py`, `counting.py` and
`searching.py` are a document's rows written, read back, counted and searched; `logs.py` feedback
and the question log; `grants.py` (who may read a document), `audit.py` (the append-only trail) and
`page_boxes.py` (where a page's characters sit) are the SQL of the tables format 2 added;
`exporting.py` reads documents out whole for `rag copy`; `vacuuming.py` is `rag optimize`'s VACUUM
and journal prune; `follower.py` is a reader's own FAISS index following format 3's change journal,
`journal.py` what it reads of that journal and its pruning, `vector_cache.py` the eviction of
followers' saved copies; `hnsw.py` says whether an index keeps pgvector's HNSW index.
`rag/storage/postgres.py`, the one module that imports psycopg, calls them with its connection and
turns PostgreSQL's errors into one-line errors, worded by `failures.py`.
"""
