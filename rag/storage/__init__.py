"""Storage: SQLite (the truth), FAISS vectors derived from it, and the writer lock."""
