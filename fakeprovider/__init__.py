"""A local fake of the OpenAI, Anthropic and Gemini HTTP APIs for tests.

Point the real vendor SDKs at :class:`FakeProviderServer` and script per-request
:class:`Reply` objects (text, provider errors, transport faults) to test a
client end to end without the network::

    from fakeprovider import FakeProviderServer, Reply

    with FakeProviderServer() as server:
        server.script(Reply.error(429, retry_after=0), Reply.text("hi"))
        client = OpenAI(base_url=server.openai_base_url, api_key="sk-test")
"""

from .recorded import Protocol, RecordedRequest
from .reply import Reply
from .server import FakeProviderServer

__all__ = ["FakeProviderServer", "Protocol", "RecordedRequest", "Reply"]
