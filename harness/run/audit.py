"""Read the system's records after the load stops and check the invariants.

The harness fetches raw records (loans, ledgers) from the stack's audit
endpoints and checks them itself with the invariant plugins; it never asks a
service whether its own data is right.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from harness.errors import HarnessError


async def fetch_audit(plan: Any, rt: Any) -> dict[str, Any]:
    audit = plan.stack.audit
    data: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for step in getattr(audit, "before", None) or []:
            for inst in rt.instances.get(step.service, []):
                await _wait_answering(session, inst)
                try:
                    async with session.request(step.method.upper(), inst.url + step.path, json=getattr(step, "json_", None)) as resp:
                        await resp.read()
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    raise HarnessError(f"audit step {step.method} {step.path} on {inst.name} failed: {exc!r}") from None
        for name, ep in audit.endpoints.items():
            inst = rt.instance(ep.service, 0)
            await _wait_answering(session, inst)
            try:
                async with session.get(inst.url + ep.path) as resp:
                    if resp.status != 200:
                        raise HarnessError(f"audit endpoint {name} ({inst.name} {ep.path}) answered HTTP {resp.status}")
                    data[name] = await resp.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise HarnessError(f"audit endpoint {name} ({inst.name} {ep.path}) failed: {exc!r}") from None
    return data


async def _wait_answering(session: aiohttp.ClientSession, inst: Any, timeout: float = 15.0) -> None:
    """A service killed by the last fault may still be restarting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if inst.running() and not inst.paused:
            try:
                if inst.health_path is None:  # a service checked by TCP: accepting a connection is answering
                    _, writer = await asyncio.wait_for(asyncio.open_connection(inst.host, inst.port), 2)
                    writer.close()
                    return
                async with session.get(inst.url + inst.health_path) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
        await asyncio.sleep(0.1)
    raise HarnessError(f"{inst.name} is not answering, so its audit data cannot be read")


async def run_audit(plan: Any, rt: Any, acknowledgements: list[dict]) -> list[dict[str, Any]]:
    from harness.invariants import check_invariants

    names = list(plan.scenario.invariants or [])
    if not names:
        return []
    data = await fetch_audit(plan, rt)
    results = check_invariants(plan.stack.audit.plugin, names, data, acknowledgements)
    return [r if isinstance(r, dict) else r.to_dict() for r in results]
