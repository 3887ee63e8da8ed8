"""Search: the Retriever protocol, hybrid dense + lexical retrieval, follow-up rewriting."""
