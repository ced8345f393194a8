"""SIGSTOP a service instance (a hung process: connections open, no answers), SIGCONT at the end."""

from __future__ import annotations

from harness.faults.base import InstanceFault, Target


class ProcessPause(InstanceFault):
    kind = "pause"

    async def apply(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        inst.pause()
        return f"SIGSTOP sent to pid {inst.pid}"

    async def revert(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        inst.resume()
        return f"SIGCONT sent to pid {inst.pid}"
