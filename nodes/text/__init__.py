"""Text a report may print, checked in code: citations, grounding, cleaning, repetition and the prompt inputs."""
