"""Read the services' own Prometheus metrics once a second during a run.

Only the series a stack names are kept (breaker states, gateway in use...),
so the journal shows what the system believed while it was being broken.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


def parse_series(text: str, wanted: list[str]) -> dict[str, float]:
    """Samples whose metric name starts with one of `wanted`, keyed `name{labels}`."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if not any(family.name.startswith(w) or w.startswith(family.name) for w in wanted):
            continue
        for sample in family.samples:
            if not any(sample.name.startswith(w) for w in wanted):
                continue
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
    return out


class ServiceSampler:
    """Scrapes every instance of the services a stack's `metrics` section names."""

    def __init__(self, stack_runtime: Any, sources: list[Any]) -> None:
        self.rt = stack_runtime
        self.sources = sources or []  # the stack's MetricsSource entries
        self._session: aiohttp.ClientSession | None = None

    async def sample(self) -> list[tuple[str, int, dict[str, float]]]:
        if not self.sources:
            return []
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.8))
        jobs = []
        for source in self.sources:
            for inst in self.rt.instances.get(source.service, []):
                if inst.running() and not inst.paused:
                    jobs.append(self._one(inst, source))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        return [r for r in results if isinstance(r, tuple)]

    async def _one(self, inst: Any, source: Any) -> tuple[str, int, dict[str, float]]:
        assert self._session is not None
        async with self._session.get(inst.url + source.path) as resp:
            text = await resp.text()
        return inst.service, inst.index, parse_series(text, list(source.series))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
