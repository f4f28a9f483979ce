"""The evaluation suite: what a reader of a research report would judge, measured on any report in the project's
JSON format, independently of the pipeline's own heuristics. See evals/README.md.

    from nexa_research.evals import score_report
    result = score_report(Report.from_json(path.read_text()))
"""

from nexa_research.evals.scorer import Judge, ReportEval, score_report

__all__ = ["Judge", "ReportEval", "score_report"]
