"""Development tools: a local OpenAI-compatible server for tests, benchmarks and dry runs."""
