"""The SQLite engine's store, one concern a module, joined into `Store` by rag/storage/store.py.

`opening` makes, opens and upgrades a folder's database and holds its connection, transactions and
manifest; `writing` adds, imports, renames and removes documents; `reading` lists and reads them
back (and out, for `rag copy`); `searching` is what a question reads (FTS5, chunks, vectors,
languages); `permissions` holds grants and scopes; `logs` feedback, the question log and the audit
trail. Each part is a class over `opening.Database`, so every one shares the same connection.
"""
