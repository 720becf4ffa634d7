"""The client side of a replica's admin endpoint: one authenticated request, one answer.

The endpoint shares the replica's port; its connections say hello as ``admin`` and
are authenticated with the cluster secret, so only someone who holds the secret can
read a replica's state or inject faults into it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from smrkit.net.config import ClusterConfig
from smrkit.net.frames import ROLE_ADMIN, connect

ADMIN_TIMEOUT_S = 2.0


class AdminError(RuntimeError):
    """A replica did not answer, or refused the request."""


async def admin_call(
    config: ClusterConfig,
    replica: str,
    request: dict[str, Any],
    *,
    secret: bytes | None = None,
    timeout_s: float = ADMIN_TIMEOUT_S,
) -> dict[str, Any]:
    """Send one admin request to ``replica`` and return its answer."""
    host, port = config.replicas[replica]
    key = config.secret() if secret is None else secret
    try:
        channel = await connect(
            host,
            port,
            key,
            role=ROLE_ADMIN,
            node_id=None,
            frame_bytes_max=config.frame_bytes_max,
            timeout_s=timeout_s,
        )
    except (OSError, TimeoutError) as error:
        raise AdminError(f"{replica} at {host}:{port} does not answer ({error})") from None
    try:
        channel.send(request)
        answer = await asyncio.wait_for(channel.recv(), timeout_s)
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
        raise AdminError(f"{replica} at {host}:{port} did not answer ({error!r})") from None
    finally:
        channel.close()
    if not isinstance(answer, dict) or not answer.get("ok"):
        error_text = answer.get("error") if isinstance(answer, dict) else answer
        raise AdminError(f"{replica} refused {request.get('cmd')}: {error_text}")
    return answer


async def status_all(
    config: ClusterConfig, secret: bytes | None = None, *, only: list[str] | None = None
) -> dict[str, Any]:
    """Each replica's status (of the ``only`` ones if given), or the error that stands
    in for it."""
    key = config.secret() if secret is None else secret
    replicas = config.servers if only is None else tuple(only)

    async def one(replica: str) -> Any:
        try:
            return await admin_call(config, replica, {"cmd": "status"}, secret=key)
        except AdminError as error:
            return {"ok": False, "error": str(error)}

    answers = await asyncio.gather(*(one(r) for r in replicas))
    return dict(zip(replicas, answers, strict=True))
