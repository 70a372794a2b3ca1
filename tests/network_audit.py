"""A socket audit hook for the test session: any connection or name lookup that leaves the machine
fails the code that tried it, so a test proves selbench stays on the machine unless asked for the hub."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import traceback

OFFLINE_SWITCHES = (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "RAY_USAGE_STATS_ENABLED",
)
BLOCKED: list[str] = []  # what was attempted, for the test that checks the hook


def _local_addresses() -> set[str]:
    addresses = {"localhost", socket.gethostname(), ""}
    with contextlib.suppress(OSError):
        addresses |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    return addresses


LOCAL = _local_addresses()  # computed before the hook is installed


def is_local(host: object) -> bool:
    if host is None or isinstance(host, bytes):
        return host is None or host.decode(errors="replace") in LOCAL
    text = str(host)
    if text in LOCAL:
        return True
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _caller() -> str:
    """The innermost frame outside the standard library: the package that tried to leave."""
    frames = [f for f in traceback.extract_stack()[:-3] if "site-packages" in f.filename]
    return f"{frames[-1].filename.split('site-packages/')[-1]}:{frames[-1].lineno}" if frames else "?"


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
            BLOCKED.append(f"connect {address} from {_caller()}")
            raise ConnectionRefusedError(f"test network audit: connection to {address} off the machine")
    elif event == "socket.getaddrinfo" and not is_local(args[0]):
        BLOCKED.append(f"lookup {args[0]} from {_caller()}")
        raise socket.gaierror(f"test network audit: name lookup of {args[0]!r} off the machine")


def install() -> None:
    sys.addaudithook(_hook)
