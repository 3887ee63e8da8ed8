"""The PostgreSQL engine's schema and the tables beside documents and chunks.

`schema.py` holds the format versions and their upgrade in place; `grants.py` (who may read a
document), `audit.py` (the append-only trail) and `page_boxes.py` (where a page's characters sit)
are the SQL of the tables format 2 added, called by `rag/storage/postgres.py` (the one module that
imports psycopg) with its connection.
"""
