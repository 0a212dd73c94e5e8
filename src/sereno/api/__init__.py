"""The HTTP API: the FastAPI app assembled from each capability's router."""
