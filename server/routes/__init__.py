"""The LangGraph server API routes, one module per resource: assistants (and what Studio draws of them:
assistant_graphs), threads, runs, run streams."""
