"""The MTA-STS policy over HTTPS (RFC 8461 §3.3), within a deadline and a size limit.

http.client with ssl, no library beyond the standard one. http.client bounds a
header line and the number of headers, but its socket's timeout is per read: a
server that trickles a byte a second would hold it for hours. So the TLS socket
here sets its own timeout, before each read and write, to what is left of the
step's deadline. The body is read up to the policy limit and no further;
redirects are not followed and only ``200`` with ``text/plain`` is a policy
(§3.3).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from pathlib import Path
from typing import Any

from destconfig.audit.mtasts import POLICY_BYTES, POLICY_TOO_LONG
from destconfig.tlsverify.options import timed_out

POLICY_PATH = "/.well-known/mta-sts.txt"
HTTPS_PORT = 443


class FetchFailed(Exception):
    """No policy could be had (one phrase); *timed_out* when a deadline passed."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class _Deadlined(ssl.SSLSocket):
    """A TLS socket whose every read and write ends by :attr:`deadline` (monotonic)."""

    deadline = 0.0

    def _left(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.settimeout(left)

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        self._left()
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        self._left()
        return super().recv(buflen, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._left()
        super().sendall(data, flags)


def https_context(ca_file: Path | None) -> ssl.SSLContext:
    """The policy fetches' TLS: *ca_file* (else the system's) trusted, the host name
    checked. One serves every fetch of an audit."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    context.sslsocket_class = _Deadlined
    return context


def fetch_policy(
    host: str, address: str, port: int, *, timeout: float, context: ssl.SSLContext
) -> bytes:
    """The body of ``https://HOST:PORT/.well-known/mta-sts.txt``, connected to *address*.

    Three steps (connect, handshake, request and response), each within *timeout*.
    The certificate must verify for *host* (*context*: :func:`https_context`), as the
    RFC asks. :class:`FetchFailed`.
    """
    late = timed_out(timeout)
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise FetchFailed(
            f"the connection to {address} on port {port} {late}", timed_out=True
        ) from None
    except OSError as error:
        why = (error.strerror or str(error)).lower()
        raise FetchFailed(f"the connection to {address} on port {port} failed ({why})") from None
    try:
        wrapped = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    except (OSError, ValueError) as error:
        sock.close()
        raise FetchFailed(f"TLS with {host} failed ({error})") from None
    assert isinstance(wrapped, _Deadlined)
    try:
        wrapped.deadline = time.monotonic() + timeout
        try:
            wrapped.settimeout(timeout)
            wrapped.do_handshake()
        except TimeoutError:
            raise FetchFailed(f"the TLS handshake with {host} {late}", timed_out=True) from None
        except ssl.SSLCertVerificationError as error:
            raise FetchFailed(
                f"the certificate of {host} is not verified ({error.verify_message})"
            ) from None
        except OSError as error:
            raise FetchFailed(f"the TLS handshake with {host} failed ({error})") from None
        wrapped.deadline = time.monotonic() + timeout
        return _get(wrapped, context, host, port, late)
    finally:
        wrapped.close()


def _get(wrapped: ssl.SSLSocket, context: ssl.SSLContext, host: str, port: int, late: str) -> bytes:
    connection = http.client.HTTPSConnection(host, port, context=context)
    connection.sock = wrapped  # connected and verified above
    try:
        connection.request("GET", POLICY_PATH, headers={"Connection": "close"})
        response = connection.getresponse()
        if response.status != 200:
            raise FetchFailed(f"https://{host}{POLICY_PATH} answered {response.status}")
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "text/plain":
            raise FetchFailed(f"the policy is served as {kind or 'no type'}, not text/plain")
        body = response.read(POLICY_BYTES + 1)
    except TimeoutError:
        raise FetchFailed(f"fetching the policy from {host} {late}", timed_out=True) from None
    except (OSError, http.client.HTTPException) as error:
        why = str(error) or type(error).__name__
        raise FetchFailed(f"fetching the policy from {host} failed ({why})") from None
    if len(body) > POLICY_BYTES:
        raise FetchFailed(POLICY_TOO_LONG)
    return body
