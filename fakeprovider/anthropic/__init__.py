"""The Anthropic wire protocol.

``validate`` checks a request body as the real API would; ``render`` writes a
scripted reply in the API's JSON and SSE shapes.
"""
