"""What a run cost and how it went: step records per node call, and the report metadata built from them."""
