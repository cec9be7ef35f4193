"""Products and reviews: operators manage products; members rate them 1-5 with a text.

One review per member and product (a second submission edits it). Writing the first review
records ``review.created``, the honest rating a *validator* gives (DOMAIN.md).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.campaigns.schemas import ProductIn, RatingSummary, ReviewIn
from app.campaigns.service import image_upload
from app.kit import clock
from app.kit.errors import NotFound
from app.kit.sql import insert
from app.models import AuditLog, Member, Product, ProductReview

PAGE_SIZE = 20


async def _audit(session: AsyncSession, operator: Member, action: str, product: Product) -> None:
    session.add(
        AuditLog(
            actor_id=operator.id,
            action=action,
            target_type="product",
            target_id=product.id,
            data={"name": product.name_en},
            created_at=clock.now(),
        )
    )
    await session.flush()


async def create_product(session: AsyncSession, operator: Member, data: ProductIn) -> Product:
    if data.image_upload_id is not None:
        await image_upload(session, data.image_upload_id, operator, field="image_upload_id")
    product = Product(**data.model_dump(), created_at=clock.now())
    session.add(product)
    await session.flush()
    await _audit(session, operator, "products.create", product)
    return product


async def update_product(
    session: AsyncSession, operator: Member, product_id: int, data: ProductIn
) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound()
    if data.image_upload_id is not None:
        await image_upload(session, data.image_upload_id, operator, field="image_upload_id")
    for key, value in data.model_dump().items():
        setattr(product, key, value)
    await session.flush()
    await _audit(session, operator, "products.update", product)
    return product


async def visible_product(session: AsyncSession, viewer: Member | None, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None or (not product.active and not (viewer and viewer.can_operate)):
        raise NotFound()
    return product


async def save_review(
    session: AsyncSession, member: Member, product: Product, data: ReviewIn
) -> tuple[ProductReview, bool]:
    """Create or edit the member's review. Returns (review, created)."""
    now = clock.now()
    stmt = insert(session, ProductReview).values(
        product_id=product.id,
        member_id=member.id,
        rating=data.rating,
        body=data.body,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ProductReview.product_id, ProductReview.member_id],
            set_={"rating": data.rating, "body": data.body, "updated_at": now},
        )
    )
    review = (
        await session.execute(
            select(ProductReview)
            .where(ProductReview.product_id == product.id, ProductReview.member_id == member.id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    created = await record(
        session,
        verbs.REVIEW_CREATED,
        actor_id=member.id,
        subject=("product_review", review.id),
        data={"product_id": product.id, "review_id": review.id, "rating": data.rating},
        dedupe_key=f"review.created:{product.id}:{member.id}",
    )
    return review, created is not None


# --- reads ---------------------------------------------------------------------------------------


async def summaries(session: AsyncSession, product_ids: list[int]) -> dict[int, RatingSummary]:
    """Average and 1-5 distribution per product, in one grouped query."""
    found = {product_id: RatingSummary() for product_id in product_ids}
    if not product_ids:
        return found
    rows = await session.execute(
        select(ProductReview.product_id, ProductReview.rating, func.count())
        .where(ProductReview.product_id.in_(product_ids))
        .group_by(ProductReview.product_id, ProductReview.rating)
    )
    for product_id, rating, count in rows.all():
        found[int(product_id)].distribution[int(rating)] = int(count)
    for summary in found.values():
        total = sum(summary.distribution.values())
        summary.count = total
        if total:
            weighted = sum(rating * count for rating, count in summary.distribution.items())
            summary.average = round(weighted / total, 2)
    return found


async def products(session: AsyncSession, *, include_inactive: bool = False) -> list[Product]:
    stmt = select(Product).order_by(Product.id)
    if not include_inactive:
        stmt = stmt.where(Product.active.is_(True))
    return list((await session.execute(stmt)).scalars())


async def reviews(
    session: AsyncSession, product_id: int, *, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[tuple[ProductReview, Member]], int | None]:
    stmt = (
        select(ProductReview, Member)
        .join(Member, Member.id == ProductReview.member_id)
        .where(ProductReview.product_id == product_id)
        .order_by(ProductReview.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        stmt = stmt.where(ProductReview.id < cursor)
    rows = [(review, member) for review, member in (await session.execute(stmt)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0].id if more and rows else None)


async def my_review(session: AsyncSession, product_id: int, member_id: int) -> ProductReview | None:
    return (
        await session.execute(
            select(ProductReview).where(
                ProductReview.product_id == product_id, ProductReview.member_id == member_id
            )
        )
    ).scalar_one_or_none()
