"""Group commit for a SQLite connection used from one asyncio event loop.

The first write of an event-loop iteration opens a transaction (BEGIN
IMMEDIATE), every write made by the requests that run in that iteration
joins it, and one COMMIT is scheduled right after. A handler awaits
`durable()` before it acknowledges anything (or before money moves): the
answer still comes only after the commit, but concurrent requests share
one commit instead of paying one each.
"""

from __future__ import annotations

import asyncio
import sqlite3


class GroupCommit:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._open = False
        self._waiters: list[asyncio.Future[None]] = []

    def write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """Run a write inside the current group transaction (opened on demand)."""
        if not self._open:
            self.db.execute("BEGIN IMMEDIATE")
            self._open = True
            asyncio.get_running_loop().call_soon(self._commit)
        return self.db.execute(sql, params)

    def _commit(self) -> None:
        waiters, self._waiters = self._waiters, []
        self._open = False
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def durable(self) -> None:
        """Return once every write made so far is committed."""
        if not self._open:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter
