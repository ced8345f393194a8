"""SIGKILL a service instance, as a crash would; restart it when the fault ends."""

from __future__ import annotations

from harness.faults.base import InstanceFault, Target


class ProcessKill(InstanceFault):
    kind = "kill"

    async def apply(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        pid = inst.pid
        inst.kill()
        return f"SIGKILL sent to pid {pid}"

    async def revert(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        if inst.running():
            return "already running"
        if not stack.restart_on_kill(self.service):
            return "left down (restart_on_kill is false)"
        await stack.restart_instance(inst)
        return f"restarted as pid {inst.pid}"
