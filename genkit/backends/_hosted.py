"""What every hosted backend (OpenAI, Anthropic, Gemini) does the same way.

A hosted backend's own modules say only what differs between providers: the capability
table, how a request maps onto the API (out), how the answer and the stream map back
(in), and how the SDK's errors are classified.  Everything else lives here once, so a
fix to it reaches every provider:

- the API key: read from ``api_key=`` or the variables the SDK itself reads, in the
  SDK's order, stripped and checked, and every key value present remembered so that it
  can be scrubbed (see :mod:`genkit._credentials`); the base URL variable checked;
- the clients: one sync client built on first use (:class:`Lazy`) and one async client
  per running event loop (:class:`PerLoop`), both released by ``close``/``aclose``;
- errors: a vendor or transport error becomes genkit's typed error with every secret
  removed from it and from the vendor's own exception chain.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from types import ModuleType, TracebackType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from genkit._credentials import check_base_url_env, find_api_key, raw_secrets
from genkit._redact import scrub_exception
from genkit.backends._transport import (
    POOL_LIMITS,
    connection_error,
    not_found_hint,
    timeout_error,
    translate_transport,
)
from genkit.backends.base import Backend, BackendSettings, Lazy, PerLoop
from genkit.errors import GenkitError, InvalidResponseError, ProviderError, error_for_status
from genkit.params import Request
from genkit.retry import parse_retry_after

__all__ = [
    "HostedBackend",
    "StainlessBackend",
    "other_error",
    "stainless_error",
    "stainless_status_error",
]


class _Closable(Protocol):
    def close(self) -> object: ...


class _AsyncClosable(Protocol):
    def close(self) -> Awaitable[object]: ...


SyncClient = TypeVar("SyncClient", bound=_Closable)
AsyncClient = TypeVar("AsyncClient")
StainlessAsyncClient = TypeVar("StainlessAsyncClient", bound=_AsyncClosable)


class HostedBackend(Backend, Generic[SyncClient, AsyncClient]):
    """A provider reached over HTTP through its vendor SDK.

    Subclasses name their key and base-URL variables, build their clients
    (:meth:`_new_sync_client`, :meth:`_new_async_client`) and classify the SDK's errors
    (:meth:`_classify`); they run every SDK call inside ``with self._translating:``.
    """

    #: The variables the SDK reads the API key from, in the SDK's order.
    key_variables: ClassVar[tuple[str, ...]]
    #: The variables a "no API key" error tells the user to set (default: all of them).
    advertised_key_variables: ClassVar[tuple[str, ...] | None] = None
    #: The variable the SDK reads its base URL from, and whether an empty one means unset.
    base_url_variable: ClassVar[str]
    base_url_empty_is_unset: ClassVar[bool] = False

    def __init__(self, model: str, settings: BackendSettings) -> None:
        super().__init__(model, settings)
        # genkit reads the key the SDK would read, stripped and checked (see _credentials),
        # and hands the SDK that key.
        self._key, self._key_source = find_api_key(
            self.provider,
            settings.api_key,
            self.key_variables,
            advertised=self.advertised_key_variables,
        )
        self._secrets = raw_secrets(settings.api_key, self.key_variables)
        check_base_url_env(
            settings.base_url, self.base_url_variable, empty_is_unset=self.base_url_empty_is_unset
        )
        #: ``with self._translating:`` raises genkit's error for any other failure
        #: inside; genkit's own errors (a bad request refused while mapping it, a
        #: per-call timeout) pass through as they are.  One stateless instance per
        #: backend, so a call builds no context manager of its own.
        self._translating = _Translating(self._translate)
        # Built on first use: load() costs nothing beyond the SDK's import, and a
        # Generator used only asynchronously never builds a sync client.
        self._sync: Lazy[SyncClient] = Lazy(self._new_sync_client)
        self._async: PerLoop[AsyncClient] = PerLoop(
            self._new_async_client, close=self._close_async_client
        )

    # ------------------------------------------------------------------ requests

    def check(self, request: Request) -> None:
        for message in request.messages:
            if message.content.__class__ is not str:  # parts: map now, to refuse before sending
                self._map_messages(request)
                break

    @abstractmethod
    def _map_messages(self, request: Request) -> object:
        """Map the request's messages as a call would, raising for a part it cannot send."""

    # ------------------------------------------------------------------ clients

    @abstractmethod
    def _new_sync_client(self) -> SyncClient:
        """The SDK client for sync calls, with the SDK's own retries off."""

    @abstractmethod
    def _new_async_client(self) -> AsyncClient:
        """The async client for the running event loop, with the SDK's own retries off."""

    @abstractmethod
    def _close_async_client(self, client: AsyncClient) -> Awaitable[object]:
        """Close one async client's connections (awaited on its own loop)."""

    def _close_sync_client(self) -> None:
        """Close the sync client's connections, if it was built."""
        client = self._sync.built
        if client is not None:
            client.close()

    def close(self) -> None:
        self._close_sync_client()
        self._async.clear()

    async def aclose(self) -> None:
        client = self._async.current()  # before close() forgets the per-loop clients
        self.close()
        if client is not None:
            await self._close_async_client(client)

    # ------------------------------------------------------------------ errors

    @abstractmethod
    def _classify(self, error: Exception) -> ProviderError:
        """genkit's error for an SDK, transport or response-shape failure."""

    def _translate(self, error: Exception) -> ProviderError:
        """:meth:`_classify`, with every secret removed from both errors and their chains."""
        scrub_exception(error, self._secrets)
        translated = self._classify(error)
        translated.redact(self._secrets)  # its message, its args (repr) and its chain
        return translated


class _Translating:
    """The context manager behind ``HostedBackend._translating`` (stateless: one serves
    every call, nested and concurrent ones included)."""

    __slots__ = ("_translate",)

    def __init__(self, translate: Callable[[Exception], ProviderError]) -> None:
        self._translate = translate

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, Exception) and not isinstance(error, GenkitError):
            raise self._translate(error) from error


class StainlessBackend(HostedBackend[SyncClient, StainlessAsyncClient]):
    """A hosted backend on a Stainless-generated SDK (``openai``, ``anthropic``).

    Both SDKs build their clients from the same arguments and raise the same error
    classes, so the clients are built here from the SDK module and its client classes.
    """

    #: The vendor SDK module: its default HTTP clients.
    sdk: ClassVar[ModuleType]
    #: The SDK's sync and async client classes.
    sync_client_class: ClassVar[type[Any]]
    async_client_class: ClassVar[type[Any]]

    def _new_sync_client(self) -> SyncClient:
        http = self.sdk.DefaultHttpxClient(limits=POOL_LIMITS)
        client: SyncClient = self.sync_client_class(http_client=http, **self._client_args())
        return client

    def _new_async_client(self) -> StainlessAsyncClient:
        http = self.sdk.DefaultAsyncHttpxClient(limits=POOL_LIMITS)
        client: StainlessAsyncClient = self.async_client_class(
            http_client=http, **self._client_args()
        )
        return client

    def _close_async_client(self, client: StainlessAsyncClient) -> Awaitable[object]:
        return client.close()

    def _client_args(self) -> dict[str, Any]:
        # max_retries=0: genkit's policy is the only one, so attempts never multiply.
        return {"max_retries": 0, **self.settings.given(), **self._credentials()}

    def _credentials(self) -> dict[str, Any]:
        """The client arguments that carry the key genkit found."""
        return {"api_key": self._key}


# ---------------------------------------------------------------------- error helpers


def stainless_status_error(error: Any, status: int, message: str, provider: str) -> ProviderError:
    """genkit's error for a Stainless SDK's ``APIStatusError`` (``status``: the one it
    stands for, which for an error event inside a 200 stream is not the HTTP status)."""
    if error.status_code == 404:
        message += not_found_hint(error.response.request, provider)
    return error_for_status(
        status,
        message,
        provider=provider,
        retry_after=parse_retry_after(error.response.headers),
        request_id=error.request_id,
    )


def stainless_error(error: Exception, sdk: ModuleType, provider: str) -> ProviderError | None:
    """A Stainless SDK's timeout, connection and malformed-answer errors; None for others."""
    if isinstance(error, sdk.APITimeoutError):
        return timeout_error(error, provider)
    if isinstance(error, sdk.APIConnectionError):
        return connection_error(error, provider)
    if isinstance(error, sdk.APIResponseValidationError):
        return InvalidResponseError(f"unexpected response: {error.message}", provider=provider)
    return None


def other_error(
    error: Exception, provider: str, api: str, shape_errors: tuple[type[Exception], ...]
) -> ProviderError:
    """A failure the SDK did not classify: a transport error, an answer not in the
    ``api``'s format (one of ``shape_errors`` raised while reading it), or anything else."""
    transport = translate_transport(error, provider)
    if transport is not None:
        return transport
    if isinstance(error, shape_errors):
        return InvalidResponseError(
            f"response not in the {api} format ({type(error).__name__}: {error})",
            provider=provider,
        )
    return ProviderError(f"{type(error).__name__}: {error}", provider=provider)
