"""The HTTP API (`/api/v1/...`): FastAPI routers over the service layer."""
