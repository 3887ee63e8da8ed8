"""`rag serve`: collections over HTTP (OpenAI-compatible chat, search, documents) and MCP."""
