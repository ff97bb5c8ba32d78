"""Generation stage: requests -> teacher (vLLM in Ray actors) -> raw records, written as they finish."""
