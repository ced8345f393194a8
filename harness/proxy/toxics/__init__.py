"""Every toxic type, by the name the API uses for it."""

from __future__ import annotations

from harness.proxy.toxics.bandwidth import BandwidthToxic
from harness.proxy.toxics.base import Chunk, Stub, Toxic
from harness.proxy.toxics.http_error import HttpErrorToxic
from harness.proxy.toxics.http_latency import HttpLatencyToxic
from harness.proxy.toxics.latency import LatencyToxic
from harness.proxy.toxics.limit_data import LimitDataToxic
from harness.proxy.toxics.noop import NoopToxic
from harness.proxy.toxics.reset_peer import ResetPeerToxic
from harness.proxy.toxics.slicer import SlicerToxic
from harness.proxy.toxics.slow_close import SlowCloseToxic
from harness.proxy.toxics.timeout import TimeoutToxic

TOXIC_TYPES: dict[str, type[Toxic]] = {
    cls.type_name: cls
    for cls in (
        NoopToxic,
        LatencyToxic,
        BandwidthToxic,
        SlowCloseToxic,
        TimeoutToxic,
        ResetPeerToxic,
        SlicerToxic,
        LimitDataToxic,
        HttpErrorToxic,
        HttpLatencyToxic,
    )
}

__all__ = ["TOXIC_TYPES", "Chunk", "Stub", "Toxic"]
