"""The camera registry: where each camera is, why it exists, how long its video may be kept."""
