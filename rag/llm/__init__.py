"""Language models: the ChatModel protocol and factory, OpenAI-compatible client, local model, test server."""
