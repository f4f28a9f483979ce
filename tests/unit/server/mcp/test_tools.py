"""The MCP tools' schemas follow the research knobs, and a call's arguments are read as the runs API reads them."""

from __future__ import annotations

import jsonschema
import pytest

from nexa_research.config import ResearchConfig
from nexa_research.server.mcp.tools import (
    ToolArgumentError,
    argument_message,
    listed_tools,
    research_arguments,
)


def test_every_knob_but_plan_review_and_models_is_an_argument_with_its_bounds():
    research = next(t for t in listed_tools() if t.name == "research")
    properties = research.inputSchema["properties"]
    assert set(properties) == {"topic"} | (ResearchConfig.field_names() - {"review_plan", "models"})
    jsonschema.validate({"topic": "Tides", "max_sections": 4, "writing": "abstractive"}, research.inputSchema)
    with pytest.raises(jsonschema.ValidationError, match="8 is greater than the maximum of 7"):
        jsonschema.validate({"topic": "Tides", "max_sections": 8}, research.inputSchema)
    with pytest.raises(jsonschema.ValidationError, match="'review_plan' was unexpected"):
        jsonschema.validate({"topic": "Tides", "review_plan": True}, research.inputSchema)


def test_arguments_split_into_topic_and_set_knobs():
    assert research_arguments({"topic": "Tides", "max_sections": 4, "language": None}) == ("Tides", {"max_sections": 4})
    with pytest.raises(ToolArgumentError, match="^review_plan: not an argument"):
        research_arguments({"topic": "Tides", "review_plan": True})
    assert argument_message("context.max_sections: too many") == "max_sections: too many"
    assert argument_message("input.topic: must not be empty") == "topic: must not be empty"
