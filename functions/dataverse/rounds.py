"""Read rounds: targeted reads that do not depend on each other travel in the same ``$batch``.

A *task* is a generator that yields a list of ``Read`` (what it needs now) and is resumed once every
one of them holds all its rows; what it returns is its result. A task that needs the answer of one
read to build the next (the accounts of the contacts just read, then their parents) yields twice;
reads it can ask for together it yields together. ``parallel`` runs several tasks side by side, and
``run_rounds`` executes a task: each *round* every GET of every read the tasks asked for goes out in
``$batch`` requests of up to ``gets_per_batch`` GETs (``DataverseClient.query_batched``), whatever
tables they read. A day's targeted reads thus cost one request per round of dependent reads (per
``gets_per_batch`` GETs), not one per kind of read.

Failures are those of ``query_batched``: an inner GET that failed transiently (429, 5xx, no part) is
repeated alone under the client's retry policy, any other failure raises the typed error a plain GET
raises, out of ``run_rounds``; a task never sees a read with rows missing.

Example::

    def contacts_and_accounts(reader, ids):
        contacts = reader.read_contacts_by_id(ids)
        yield [contacts]
        accounts = reader.read_accounts_by_id({c.record.account_id for c in contacts.results})
        yield [accounts]
        return contacts.results, accounts.results

    run_rounds(client, parallel(contacts_and_accounts(reader, ids), other_task))
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .client import DataverseClient

__all__ = ["Read", "Task", "parallel", "run_rounds"]

T = TypeVar("T")
Task = Generator[list["Read"], None, T]


@dataclass(eq=False)
class Read:
    """One targeted read: the rows of ``entity_set`` matching any of ``filters`` (one GET each).

    ``convert`` turns each row into what ``results`` keeps (``None``: the row is dropped); without it
    the rows are kept. ``plain_when_alone``: a round holding only this read's single GET sends it as a
    plain GET (a read that usually shares a round, such as the sync users, keeps its old shape on a day
    with nothing else to read); otherwise every GET of a round travels in a ``$batch``.
    """

    entity_set: str
    filters: list[str]
    select: list[str]
    convert: Callable[[dict[str, Any]], Any] | None = None
    plain_when_alone: bool = False
    results: list[Any] = field(default_factory=list)

    def take(self, rows: Iterable[dict[str, Any]]) -> None:
        if self.convert is None:
            self.results.extend(rows)
            return
        for row in rows:
            item = self.convert(row)
            if item is not None:
                self.results.append(item)


def _step(task: Task[Any], *, first: bool = False) -> tuple[bool, Any]:
    """Resume ``task`` until it asks for reads (``(False, reads)``) or ends (``(True, result)``)."""
    try:
        reads = next(task) if first else task.send(None)
        while not any(read.filters for read in reads):  # nothing to send: the answer is known now
            reads = task.send(None)
    except StopIteration as stop:
        return True, stop.value
    return False, reads


def parallel(*tasks: Task[Any]) -> Task[list[Any]]:
    """A task running ``tasks`` side by side: each round holds the reads every one of them asks for.
    Returns their results, in order. Tasks are resumed in order after each round."""
    results: list[Any] = [None] * len(tasks)
    waiting: dict[int, list[Read]] = {}
    try:
        for index, task in enumerate(tasks):
            done, value = _step(task, first=True)
            if done:
                results[index] = value
            else:
                waiting[index] = value
        while waiting:
            yield [read for reads in waiting.values() for read in reads]
            for index in list(waiting):
                done, value = _step(tasks[index])
                if done:
                    results[index] = value
                    del waiting[index]
                else:
                    waiting[index] = value
    finally:
        for task in tasks:
            task.close()
    return results


def run_rounds(client: DataverseClient, task: Task[T], *, page_size: int | None = None,
               gets_per_batch: int | None = None) -> T:
    """Execute ``task`` round by round against ``client``; returns the task's result.

    Raises:
        DataverseError: a read failed (after the client's retries); the task is closed.
    """
    try:
        done, value = _step(task, first=True)
        while not done:
            _execute(client, value, page_size, gets_per_batch)
            done, value = _step(task)
        return value
    finally:
        task.close()


def _execute(client: DataverseClient, reads: Sequence[Read], page_size: int | None,
             gets_per_batch: int | None) -> None:
    gets: list[tuple[str, str, list[str]]] = []
    owners: list[Read] = []
    for read in reads:
        for filter_ in read.filters:
            gets.append((read.entity_set, filter_, read.select))
            owners.append(read)
    if not gets:
        return
    options: dict[str, Any] = {"page_size": page_size}
    if gets_per_batch is not None:
        options["gets_per_batch"] = gets_per_batch
    alone = len(gets) == 1 and owners[0].plain_when_alone
    for position, rows in client.query_batched(gets, single_as_get=alone, **options):
        owners[position].take(rows)
