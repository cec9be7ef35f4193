"""Q&A endpoints of the JSON API: votes and accepted answers."""

from __future__ import annotations

from app.accounts.deps import CurrentMember, SessionDep
from app.forums.schemas import AcceptOut, VoteIn, VoteOut
from app.kit.routing import Router
from app.qa import service

router = Router(prefix="/api/v1", tags=["q&a"])


@router.put("/posts/{post_id}/vote", response_model=VoteOut, summary="Vote on a question or answer")
async def vote(post_id: int, data: VoteIn, session: SessionDep, viewer: CurrentMember) -> VoteOut:
    """`value` is 1 (up), -1 (down) or 0 (take the vote back). Not on one's own posts."""
    my_vote, score = await service.vote(session, viewer, post_id, data.value)
    return VoteOut(post_id=post_id, my_vote=my_vote, score=score)


@router.put("/posts/{post_id}/accept", response_model=AcceptOut, summary="Accept an answer")
async def accept(post_id: int, session: SessionDep, viewer: CurrentMember) -> AcceptOut:
    """By the asker or a moderator; accepting another answer replaces the earlier choice."""
    topic = await service.accept(session, viewer, post_id)
    return AcceptOut(topic_id=topic.id, accepted_post_id=topic.accepted_post_id)


@router.delete("/posts/{post_id}/accept", response_model=AcceptOut, summary="Unaccept an answer")
async def unaccept(post_id: int, session: SessionDep, viewer: CurrentMember) -> AcceptOut:
    topic = await service.unaccept(session, viewer, post_id)
    return AcceptOut(topic_id=topic.id, accepted_post_id=topic.accepted_post_id)
