"""The one place newsqa reaches the network: fetching a page or feed that `qa add` was given."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from .errors import QAError

TIMEOUT = 20.0  # seconds per request
MAX_BYTES = 10_000_000  # a page or feed larger than this is not an article
USER_AGENT = "newsqa (+https://pypi.org/project/newsqa/)"


class FetchError(QAError):
    """A URL could not be fetched (bad address, network error, HTTP error, too large)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    data: bytes
    charset: str = ""  # as the server declared it, "" when it did not


def fetch(url: str, timeout: float = TIMEOUT) -> Fetched:
    """GET `url` (http or https only); FetchError with a one-line reason otherwise."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http:// and https:// addresses can be added")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            data = response.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise FetchError(f"{url}: larger than {MAX_BYTES // 1_000_000} MB")
            return Fetched(response.geturl(), response.headers.get_content_type(), data,
                           response.headers.get_content_charset() or "")
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: HTTP {error.code} {_one_line(error.reason)}") from None
    except urllib.error.URLError as error:
        raise FetchError(f"{url}: {_one_line(error.reason)}") from None
    except (TimeoutError, OSError, ValueError) as error:
        raise FetchError(f"{url}: {_one_line(error)}") from None


def _one_line(reason: object) -> str:
    """urllib's reasons can span lines ("… infinite loop.\nThe last 30x error message was:\nFound")."""
    return " ".join(str(reason).split())
