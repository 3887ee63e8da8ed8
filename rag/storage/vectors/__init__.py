"""The FAISS index, derived from SQLite: kinds (ann), recall, building, the saved file, the journal.

Import the modules themselves (`rag.storage.vectors.index`): this package imports nothing, so
the store can read the journal without loading the index.
"""
