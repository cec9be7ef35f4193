"""Campaigns, rewards and product reviews in the JSON API (/api/v1).

Every read goes through app.campaigns.queries with the viewer, so the API answers 404 for a
campaign outside the viewer's audience exactly like the pages do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from app.accounts.deps import CurrentMember, CurrentOperator, OptionalMember, SessionDep
from app.campaigns import analytics, queries, reviews, rewards, service
from app.campaigns.schemas import (
    AttendanceIn,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    DrawIn,
    DrawOut,
    EntryIn,
    EntryOut,
    InvitesIn,
    ProductIn,
    ProductOut,
    RedemptionDecisionIn,
    RedemptionOut,
    ReportOut,
    ReviewIn,
    ReviewOut,
    RewardIn,
    RewardOut,
)
from app.kit.errors import NotFound
from app.kit.routing import Router
from app.models import Campaign, Member, ProductReview

router = Router(prefix="/api/v1", tags=["campaigns"])
Cursor = Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")]


async def _out(session: SessionDep, campaign: Campaign, *, locked: bool) -> CampaignOut:
    covers = await queries.upload_urls(session, [campaign.cover_upload_id])
    questions = [] if locked else await queries.questions(session, campaign.id)
    return CampaignOut.of(
        campaign,
        locked=locked,
        cover_url=covers.get(campaign.cover_upload_id or 0),
        questions=questions,
    )


# --- members -------------------------------------------------------------------------------------


@router.get("/campaigns", response_model=CampaignPage, summary="Campaigns I may see")
async def list_campaigns(
    session: SessionDep,
    viewer: OptionalMember,
    q: Annotated[str, Query(max_length=100, description="Search titles and descriptions")] = "",
    cursor: Cursor = None,
) -> CampaignPage:
    if await service.due_campaign_ids(session):
        service.advance_after_commit(session)
    items, next_cursor = await queries.list_campaigns(session, viewer, q=q, cursor=cursor)
    return CampaignPage(
        items=[
            CampaignOut.of(item.campaign, locked=item.locked, cover_url=item.cover_url)
            for item in items
        ],
        next_cursor=next_cursor,
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="One campaign")
async def get_campaign(
    campaign_id: int, session: SessionDep, viewer: OptionalMember
) -> CampaignOut:
    campaign, locked = await queries.visible_campaign(session, viewer, campaign_id)
    if viewer is not None and not locked and not viewer.can_operate:
        # Views measure the audience's interest: staff checking the page do not count.
        service.record_view_after_commit(session, campaign.id, viewer.id)
    return await _out(session, campaign, locked=locked)


@router.post(
    "/campaigns/{campaign_id}/entries",
    response_model=EntryOut,
    status_code=201,
    summary="Enter a campaign (apply, post, answer or RSVP)",
    description="Answers are keyed by question id. Post campaigns take `body` and up to six "
    "`photo_upload_ids` from POST /api/v1/uploads.",
)
async def enter(
    campaign_id: int, data: EntryIn, session: SessionDep, viewer: CurrentMember
) -> EntryOut:
    campaign = await queries.open_campaign_for(session, viewer, campaign_id)
    entry = await service.enter(session, campaign, viewer, data)
    photos = await queries.photo_urls(session, [entry.id])
    return EntryOut.of(entry, photos.get(entry.id, []))


@router.get("/campaigns/{campaign_id}/entries/me", response_model=EntryOut, summary="My entry")
async def my_entry(campaign_id: int, session: SessionDep, viewer: CurrentMember) -> EntryOut:
    campaign = await queries.open_campaign_for(session, viewer, campaign_id)
    entry = await queries.my_entry(session, campaign.id, viewer.id)
    if entry is None:
        raise NotFound()
    photos = await queries.photo_urls(session, [entry.id])
    return EntryOut.of(entry, photos.get(entry.id, []))


# --- operators -----------------------------------------------------------------------------------


@router.post(
    "/campaigns", response_model=CampaignOut, status_code=201, summary="Create a campaign (draft)"
)
async def create_campaign(
    data: CampaignIn, session: SessionDep, viewer: CurrentOperator
) -> CampaignOut:
    campaign = await service.create_campaign(session, viewer, data)
    return await _out(session, campaign, locked=False)


@router.put("/campaigns/{campaign_id}", response_model=CampaignOut, summary="Change a campaign")
async def update_campaign(
    campaign_id: int, data: CampaignIn, session: SessionDep, viewer: CurrentOperator
) -> CampaignOut:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    await service.update_campaign(session, viewer, campaign, data)
    return await _out(session, campaign, locked=False)


@router.post(
    "/campaigns/{campaign_id}/invites", summary="Add members to the invited list", status_code=204
)
async def invite(
    campaign_id: int, data: InvitesIn, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    await service.invite_members(session, viewer, campaign, data.handles)
    return Response(status_code=204)


async def _transition(
    session: SessionDep, viewer: Member, campaign_id: int, action: str
) -> CampaignOut:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    if action == "schedule":
        await service.schedule(session, viewer, campaign)
    elif action == "open":
        await service.open_campaign(session, campaign, viewer)
    elif action == "close":
        await service.close_campaign(session, campaign, viewer)
    else:
        await service.announce_results(session, viewer, campaign)
    return await _out(session, campaign, locked=False)


@router.post("/campaigns/{campaign_id}/schedule", response_model=CampaignOut, summary="Schedule")
async def schedule(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> CampaignOut:
    return await _transition(session, viewer, campaign_id, "schedule")


@router.post(
    "/campaigns/{campaign_id}/open",
    response_model=CampaignOut,
    summary="Open now (notifies the audience)",
)
async def open_now(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> CampaignOut:
    return await _transition(session, viewer, campaign_id, "open")


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignOut, summary="Close now")
async def close_now(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> CampaignOut:
    return await _transition(session, viewer, campaign_id, "close")


@router.post(
    "/campaigns/{campaign_id}/draw",
    response_model=DrawOut,
    summary="Draw the lottery winners (once, after the close)",
    description="Without a seed a random one is made. The seed is recorded: drawing with "
    "`random.Random(seed)` over the entry ids sorted ascending gives the same winners.",
)
async def draw(
    campaign_id: int, session: SessionDep, viewer: CurrentOperator, data: DrawIn | None = None
) -> DrawOut:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    return await service.draw_lottery(session, viewer, campaign, data.seed if data else None)


@router.post(
    "/campaigns/{campaign_id}/announce",
    response_model=CampaignOut,
    summary="Announce the results (winners and the others are notified)",
)
async def announce(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> CampaignOut:
    return await _transition(session, viewer, campaign_id, "announce")


@router.post(
    "/campaigns/{campaign_id}/attendance", summary="Mark event attendance", status_code=204
)
async def attendance(
    campaign_id: int, data: AttendanceIn, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    await service.mark_attendance(session, viewer, campaign, data.attended)
    return Response(status_code=204)


@router.get(
    "/campaigns/{campaign_id}/entries",
    response_model=list[EntryOut],
    summary="Entries (operators), oldest first",
)
async def list_entries(
    campaign_id: int, session: SessionDep, viewer: CurrentOperator, cursor: Cursor = None
) -> list[EntryOut]:
    campaign = await queries.managed_campaign(session, campaign_id)
    rows, _next = await queries.entries(
        session, campaign.id, cursor=cursor, limit=100, newest_first=False
    )
    return [EntryOut.of(row.entry, row.photos) for row in rows]


@router.get(
    "/campaigns/{campaign_id}/report", response_model=ReportOut, summary="Campaign analytics"
)
async def report(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> ReportOut:
    campaign = await queries.managed_campaign(session, campaign_id)
    return await analytics.report(session, campaign)


# --- rewards -------------------------------------------------------------------------------------


@router.get("/rewards", response_model=list[RewardOut], summary="The rewards catalogue")
async def list_rewards(session: SessionDep, viewer: OptionalMember) -> list[RewardOut]:
    items = await rewards.catalogue(session, viewer)
    return [RewardOut.of(item.reward, item.image_url) for item in items]


@router.post("/rewards", response_model=RewardOut, status_code=201, summary="Add a reward")
async def create_reward(data: RewardIn, session: SessionDep, viewer: CurrentOperator) -> RewardOut:
    return RewardOut.of(await rewards.create_reward(session, viewer, data))


@router.put("/rewards/{reward_id}", response_model=RewardOut, summary="Change a reward")
async def update_reward(
    reward_id: int, data: RewardIn, session: SessionDep, viewer: CurrentOperator
) -> RewardOut:
    return RewardOut.of(await rewards.update_reward(session, viewer, reward_id, data))


@router.post(
    "/rewards/{reward_id}/redemptions",
    response_model=RedemptionOut,
    status_code=201,
    summary="Redeem a reward with spendable points",
    description="409 when it is out of stock, the balance is short or the rank too low.",
)
async def redeem(reward_id: int, session: SessionDep, viewer: CurrentMember) -> RedemptionOut:
    redemption = await rewards.redeem(session, viewer, reward_id)
    return RedemptionOut.of(redemption, await rewards.spendable(session, viewer.id))


@router.get("/me/redemptions", response_model=list[RedemptionOut], summary="My redemptions")
async def my_redemptions(
    session: SessionDep, viewer: CurrentMember, cursor: Cursor = None
) -> list[RedemptionOut]:
    rows, _next = await rewards.redemptions(session, member_id=viewer.id, cursor=cursor)
    return [RedemptionOut.of(redemption) for redemption, _reward, _member in rows]


@router.get("/redemptions", response_model=list[RedemptionOut], summary="Redemptions (operators)")
async def list_redemptions(
    session: SessionDep,
    viewer: CurrentOperator,
    status: Annotated[str | None, Query(pattern="^(pending|fulfilled|refused)$")] = None,
    cursor: Cursor = None,
) -> list[RedemptionOut]:
    rows, _next = await rewards.redemptions(session, status=status, cursor=cursor)
    return [RedemptionOut.of(redemption) for redemption, _reward, _member in rows]


@router.post("/redemptions/{redemption_id}/fulfil", response_model=RedemptionOut, summary="Fulfil")
async def fulfil(
    redemption_id: int,
    session: SessionDep,
    viewer: CurrentOperator,
    data: RedemptionDecisionIn | None = None,
) -> RedemptionOut:
    note = data.note if data else ""
    return RedemptionOut.of(await rewards.fulfil(session, viewer, redemption_id, note))


@router.post(
    "/redemptions/{redemption_id}/refuse",
    response_model=RedemptionOut,
    summary="Refuse (refunds the points and returns the stock)",
)
async def refuse(
    redemption_id: int,
    session: SessionDep,
    viewer: CurrentOperator,
    data: RedemptionDecisionIn | None = None,
) -> RedemptionOut:
    note = data.note if data else ""
    return RedemptionOut.of(await rewards.refuse(session, viewer, redemption_id, note))


# --- products and reviews ------------------------------------------------------------------------


@router.get("/products", response_model=list[ProductOut], summary="Products and their ratings")
async def list_products(session: SessionDep, viewer: OptionalMember) -> list[ProductOut]:
    items = await reviews.products(session)
    summaries = await reviews.summaries(session, [product.id for product in items])
    images = await queries.upload_urls(session, [product.image_upload_id for product in items])
    return [
        ProductOut.of(product, summaries[product.id], images.get(product.image_upload_id or 0))
        for product in items
    ]


@router.get("/products/{product_id}", response_model=ProductOut, summary="One product")
async def get_product(product_id: int, session: SessionDep, viewer: OptionalMember) -> ProductOut:
    product = await reviews.visible_product(session, viewer, product_id)
    summary = (await reviews.summaries(session, [product.id]))[product.id]
    images = await queries.upload_urls(session, [product.image_upload_id])
    return ProductOut.of(product, summary, images.get(product.image_upload_id or 0))


@router.post("/products", response_model=ProductOut, status_code=201, summary="Add a product")
async def create_product(
    data: ProductIn, session: SessionDep, viewer: CurrentOperator
) -> ProductOut:
    product = await reviews.create_product(session, viewer, data)
    summary = (await reviews.summaries(session, [product.id]))[product.id]
    return ProductOut.of(product, summary)


@router.put("/products/{product_id}", response_model=ProductOut, summary="Change a product")
async def update_product(
    product_id: int, data: ProductIn, session: SessionDep, viewer: CurrentOperator
) -> ProductOut:
    product = await reviews.update_product(session, viewer, product_id, data)
    summary = (await reviews.summaries(session, [product.id]))[product.id]
    return ProductOut.of(product, summary)


def _review_out(review: ProductReview) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        product_id=review.product_id,
        member_id=review.member_id,
        rating=review.rating,
        body=review.body,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


@router.get("/products/{product_id}/reviews", response_model=list[ReviewOut], summary="Reviews")
async def list_reviews(
    product_id: int, session: SessionDep, viewer: OptionalMember, cursor: Cursor = None
) -> list[ReviewOut]:
    product = await reviews.visible_product(session, viewer, product_id)
    rows, _next = await reviews.reviews(session, product.id, cursor=cursor)
    return [_review_out(review) for review, _member in rows]


@router.put(
    "/products/{product_id}/review",
    response_model=ReviewOut,
    summary="Write or edit my review (one per product)",
)
async def put_review(
    product_id: int, data: ReviewIn, session: SessionDep, viewer: CurrentMember
) -> ReviewOut:
    product = await reviews.visible_product(session, viewer, product_id)
    review, _created = await reviews.save_review(session, viewer, product, data)
    return _review_out(review)
