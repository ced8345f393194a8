"""Restart a service instance (SIGTERM, start again, wait for health): a deploy or a crash loop's first turn."""

from __future__ import annotations

from harness.faults.base import InstanceFault, Target


class ProcessRestart(InstanceFault):
    kind = "restart"

    async def apply(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        old = inst.pid
        await stack.restart_instance(inst, graceful=True)
        return f"pid {old} restarted as pid {inst.pid}"

    async def revert(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        if not inst.running():
            await stack.restart_instance(inst)
            return f"started again as pid {inst.pid}"
        return "nothing to revert"
