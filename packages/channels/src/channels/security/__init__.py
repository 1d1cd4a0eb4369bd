"""Security middleware."""

__all__: list[str] = []
