"""SIGKILL a service instance, as a crash would; restart it when the fault ends."""

from __future__ import annotations

from harness.faults.base import InstanceFault, Target


class ProcessKill(InstanceFault):
    kind = "kill"

    def __init__(self, service: str, instance: int, fault_id: str, restart: bool | None = None) -> None:
        super().__init__(service, instance, fault_id)
        self.restart = restart  # None: the stack's restart_on_kill decides

    async def apply(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        pid = inst.pid
        inst.kill()
        return f"SIGKILL sent to pid {pid}"

    async def revert(self, stack: Target) -> str:
        inst = stack.instance(self.service, self.index)
        if inst.running():
            return "already running"
        restart = self.restart if self.restart is not None else stack.restart_on_kill(self.service)
        if not restart:
            return "left down (no restart asked for)"
        await stack.restart_instance(inst)
        return f"restarted as pid {inst.pid}"
