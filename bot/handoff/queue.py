"""The hand-off queue: one ticket per hand-off, in a database every process shares.

The action server opens tickets, the console lists, claims and finishes them; neither keeps a
conversation in memory, so any number of Rasa replicas and console processes can serve one
queue. A claim is a single conditional UPDATE (`... WHERE status = 'waiting'`), so when two
agents claim at once the database lets exactly one of them win.

Ticket states: waiting -> claimed -> returned (handed back to the bot) | closed; a ticket that
nobody claims in time, or that opens outside support hours, becomes `unavailable`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

WAITING, CLAIMED, RETURNED, CLOSED, UNAVAILABLE = "waiting", "claimed", "returned", "closed", "unavailable"
FINISHED = (RETURNED, CLOSED, UNAVAILABLE)

handoff_metadata = sa.MetaData()

handoff_tickets = sa.Table(
    "handoff_tickets",
    handoff_metadata,
    sa.Column("ticket_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("last_message", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=WAITING, index=True),
    sa.Column("agent_id", sa.Integer, nullable=True),
    sa.Column("agent_email", sa.String(255), nullable=True),
    sa.Column("claimed_at", sa.DateTime, nullable=True),
    sa.Column("finished_at", sa.DateTime, nullable=True),
)


class TicketError(ValueError):
    """A ticket operation that does not apply: no such ticket, or held by someone else."""


@dataclass(frozen=True)
class Ticket:
    """One hand-off as the console shows it."""

    ticket_id: int
    sender_id: str
    language: str | None
    channel: str | None
    reason: str
    last_message: str | None
    created_at: dt.datetime
    status: str
    agent_id: int | None
    agent_email: str | None
    claimed_at: dt.datetime | None
    finished_at: dt.datetime | None

    def waiting_seconds(self, now: dt.datetime | None = None) -> int:
        """How long the customer has waited (until the claim, once claimed)."""
        end = self.claimed_at or self.finished_at or (now or utc_now())
        return max(0, int((end - self.created_at).total_seconds()))


def utc_now() -> dt.datetime:
    """Naive UTC now, as the tables store it (SQLite keeps no time zone)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@functools.lru_cache(maxsize=8)
def queue_engine(url: str) -> Engine:
    """One engine per database URL, with the queue's table created if missing."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True)
    handoff_metadata.create_all(engine)
    return engine


def _ticket(row: sa.engine.Row) -> Ticket:
    return Ticket(**{column.name: row._mapping[column.name] for column in handoff_tickets.columns})


def open_ticket(
    engine: Engine,
    sender_id: str,
    language: str | None,
    reason: str,
    last_message: str | None,
    channel: str | None = None,
    status: str = WAITING,
) -> int:
    """Records that a customer needs a person; returns the ticket number."""
    now = utc_now()
    with engine.begin() as connection:
        result = connection.execute(
            handoff_tickets.insert().values(
                sender_id=sender_id,
                language=language,
                channel=channel,
                reason=reason,
                last_message=last_message,
                created_at=now,
                status=status,
                finished_at=now if status in FINISHED else None,
            )
        )
        return int(result.inserted_primary_key[0])


def get_ticket(engine: Engine, ticket_id: int) -> Ticket:
    """The ticket with this number; raises TicketError when there is none."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(handoff_tickets).where(handoff_tickets.c.ticket_id == ticket_id)).first()
    if row is None:
        raise TicketError(f"There is no hand-off ticket {ticket_id}.")
    return _ticket(row)


def open_tickets(engine: Engine) -> list[Ticket]:
    """Waiting and claimed tickets, the longest waiting first."""
    query = (
        sa.select(handoff_tickets)
        .where(handoff_tickets.c.status.in_((WAITING, CLAIMED)))
        .order_by(handoff_tickets.c.created_at, handoff_tickets.c.ticket_id)
    )
    with engine.connect() as connection:
        return [_ticket(row) for row in connection.execute(query)]


def active_ticket_for(engine: Engine, sender_id: str) -> Ticket | None:
    """The conversation's waiting or claimed ticket, if it has one."""
    query = sa.select(handoff_tickets).where(
        handoff_tickets.c.sender_id == sender_id, handoff_tickets.c.status.in_((WAITING, CLAIMED))
    )
    with engine.connect() as connection:
        row = connection.execute(query.order_by(handoff_tickets.c.ticket_id.desc())).first()
    return _ticket(row) if row else None


def claim(engine: Engine, ticket_id: int, agent_id: int, agent_email: str) -> bool:
    """Gives the waiting ticket to the agent; False when it is no longer waiting (another
    agent was first, or it was finished). One conditional UPDATE: the database decides."""
    with engine.begin() as connection:
        result = connection.execute(
            handoff_tickets.update()
            .where(handoff_tickets.c.ticket_id == ticket_id, handoff_tickets.c.status == WAITING)
            .values(status=CLAIMED, agent_id=agent_id, agent_email=agent_email, claimed_at=utc_now())
        )
        return result.rowcount == 1


def release(engine: Engine, ticket_id: int, agent_id: int) -> bool:
    """Puts a ticket the agent holds back in the queue (the take-over could not be recorded)."""
    with engine.begin() as connection:
        result = connection.execute(
            handoff_tickets.update()
            .where(
                handoff_tickets.c.ticket_id == ticket_id,
                handoff_tickets.c.status == CLAIMED,
                handoff_tickets.c.agent_id == agent_id,
            )
            .values(status=WAITING, agent_id=None, agent_email=None, claimed_at=None)
        )
        return result.rowcount == 1


def finish(engine: Engine, ticket_id: int, status: str, agent_id: int | None = None) -> bool:
    """Ends an open ticket with `status` (returned, closed or unavailable); with `agent_id`,
    only if that agent holds it. False when the ticket was not in that state any more."""
    if status not in FINISHED:
        raise TicketError(f"A ticket finishes as one of {FINISHED}, not {status!r}.")
    condition = [handoff_tickets.c.ticket_id == ticket_id]
    if agent_id is None:
        condition.append(handoff_tickets.c.status.in_((WAITING, CLAIMED)))
    else:
        condition += [handoff_tickets.c.status == CLAIMED, handoff_tickets.c.agent_id == agent_id]
    with engine.begin() as connection:
        result = connection.execute(
            handoff_tickets.update().where(*condition).values(status=status, finished_at=utc_now())
        )
        return result.rowcount == 1


def unclaimed_since(engine: Engine, cutoff: dt.datetime) -> list[Ticket]:
    """Tickets still waiting that were opened before `cutoff`."""
    query = sa.select(handoff_tickets).where(handoff_tickets.c.status == WAITING, handoff_tickets.c.created_at < cutoff)
    with engine.connect() as connection:
        return [_ticket(row) for row in connection.execute(query)]
