"""The research graph as MCP tools at `/mcp` (streamable HTTP), for desktop assistants, IDE agents and other agents.

A tool call makes the same run the runs API makes (server/run_requests.py), under the caller's API key, tier and
quota, on the workers through the job queue; the answer is the run's report.
"""
