"""The graph LangGraph Studio and `langgraph dev` load (see langgraph.json).

No checkpointer here: the LangGraph server brings its own persistence. Providers come from the environment
and each run's configurable values, exactly as in the library.
"""

from nexa_research.builder import build_graph

graph = build_graph()
