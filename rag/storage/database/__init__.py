"""The PostgreSQL engine's schema and the SQL beside its documents and chunks.

`schema.py` holds the format versions and their upgrade in place; `grants.py` (who may read a
document), `audit.py` (the append-only trail) and `page_boxes.py` (where a page's characters sit)
are the SQL of the tables format 2 added; `exporting.py` reads one document out whole for
`rag copy`; `follower.py` is a reader's own FAISS index following format 3's change journal.
`rag/storage/postgres.py`, the one module that imports psycopg, calls them with its
connection and turns PostgreSQL's errors into one-line errors.
"""
