"""Where a webhook may be sent: the rules against server-side request forgery (SSRF).

A target must be ``https`` and every address its host name resolves to must be a public
(globally routable) one: never loopback, private, link-local (the cloud metadata service),
shared, reserved or multicast. Hosts an operator lists in ``WEBHOOK_ALLOWED_HOSTS`` are
trusted as they are (``http`` allowed, any address): that is how a receiver on the internal
network, or on the loopback interface in tests, is let through.

The check runs when an endpoint is registered and again before every attempt, since a name
can be pointed somewhere else in between; the sender then connects to the very addresses
checked here, so a second lookup cannot swap them (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

logger = logging.getLogger(__name__)


class UnsafeTarget(ValueError):
    """The URL is not one the tracker may send to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked target: where to connect, and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]
    #: Listed in ``WEBHOOK_ALLOWED_HOSTS``: not checked, and its error pages are not kept.
    trusted: bool = False


def allowed_hosts() -> set[str]:
    """Return the operator-trusted host names and addresses, lower case, without brackets."""
    return {host.strip().strip("[]").lower() for host in settings.WEBHOOK_ALLOWED_HOSTS if host}


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to for a TCP connection (the system resolver).

    Raise ``UnsafeTarget`` if it does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        message = _("The host name %(host)s could not be resolved.") % {"host": host}
        raise UnsafeTarget(message) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215;
#: SIIT's IPv4-translated addresses, RFC 2765): a gateway on the way turns them into that IPv4
#: address, private or not.
_EMBEDDING = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
)


def is_public(address: str) -> bool:
    """Return whether ``address`` is globally routable.

    An IPv6 address that embeds an IPv4 one (mapped, 6to4, Teredo, NAT64, SIIT) is judged by
    that IPv4 address as well.
    """
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates = [ip.ipv4_mapped]
        elif any(ip in network for network in _EMBEDDING):
            # A translator's prefix: where it leads is the IPv4 address inside.
            candidates = [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip.teredo is not None:
            candidates.append(ip.teredo[1])
    return all(c.is_global and not (c.is_multicast or c.is_reserved) for c in candidates)


def target_check(url: str) -> Target:
    """Check ``url`` against the rules above and resolve its host; raise ``UnsafeTarget``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(_("This is not a valid URL.")) from exc
    if not url.isascii():
        raise UnsafeTarget(
            _("Write the URL in ASCII: percent-encode other characters, punycode the host.")
        )
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise UnsafeTarget(_("Give an https:// URL with a host name."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget(
            _("Put no user name or password in the URL: the secret signs every delivery.")
        )
    if parts.fragment:
        raise UnsafeTarget(_("A URL fragment (#...) is never sent: remove it."))
    port = port or (443 if scheme == "https" else 80)
    trusted = host in allowed_hosts()
    if scheme != "https" and not trusted:
        raise UnsafeTarget(
            _("Use https: plain http is only allowed for the hosts an operator lists.")
        )
    addresses = resolve(host, port)
    if not trusted:
        for address in addresses:
            if not is_public(address):
                # The address stays in the server's log: telling the caller would map the
                # internal network for anyone who may register an endpoint.
                logger.info("Webhook target %s refused: resolves to %s", host, address)
                raise UnsafeTarget(
                    _(
                        "%(host)s resolves to an address that is not public: webhooks are "
                        "only sent to the internet, or to hosts an operator lists."
                    )
                    % {"host": host}
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        addresses=tuple(addresses),
        trusted=trusted,
    )
