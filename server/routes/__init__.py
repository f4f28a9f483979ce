"""The LangGraph server API routes, one module per resource: assistants, threads, runs, run streams."""
