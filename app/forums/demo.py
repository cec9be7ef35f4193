"""Bilingual demo forums: categories, a discussion, a solved question, an announcement."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.forums import service
from app.forums.schemas import CategoryIn, PostEditIn, ReplyIn, TopicIn, TopicModerationIn
from app.models import Category, Member
from app.qa import service as qa

CATEGORIES = [
    CategoryIn(
        slug="news",
        name_en="Announcements",
        name_ja="お知らせ",
        description_en="News from the team.",
        description_ja="運営チームからのお知らせです。",
        colour="#b3261e",
        position=0,
        posting="staff",
    ),
    CategoryIn(
        slug="lounge",
        name_en="Fan lounge",
        name_ja="ファンラウンジ",
        description_en="Talk about anything you love about the brand.",
        description_ja="ブランドの好きなところを自由に語りましょう。",
        colour="#0b57a4",
        position=1,
    ),
    CategoryIn(
        slug="help",
        name_en="Questions",
        name_ja="質問箱",
        description_en="Ask the community; accept the answer that helped.",
        description_ja="困ったときはここで質問。役に立った回答を「解決」にしましょう。",
        colour="#1e6b34",
        position=2,
        kind="question",
    ),
    CategoryIn(
        slug="ambassadors",
        name_en="Ambassador lounge",
        name_ja="アンバサダーラウンジ",
        description_en="For members with 500 lifetime points or more.",
        description_ja="累計500ポイント以上のメンバー限定です。",
        colour="#8a5a00",
        position=3,
        visibility="min_rank",
        min_rank_threshold=500,
    ),
]


async def seed_forums(session: AsyncSession, members: list[Member]) -> None:
    """Runs once: skipped when categories exist. Each member posts at most once, since the
    moderation throttle applies to the demo as to anyone else."""
    if await session.scalar(select(Category.id).limit(1)) is not None:
        return
    people = {member.email.split("@")[0]: member for member in members}
    admin, mod, ops = people["admin"], people["mod"], people["ops"]
    hana, alex, yuki = people["hana"], people["alex"], people["yuki"]
    ids = {}
    for data in CATEGORIES:
        ids[data.slug] = (await service.create_category(session, data)).id

    welcome, _ = await service.create_topic(
        session,
        admin,
        TopicIn(
            category_id=ids["news"],
            title="コミュニティへようこそ！ Welcome to the community",
            body=(
                "ファンのみなさん、ようこそ！質問・感想・写真、なんでも気軽に投稿してください。\n\n"
                "Welcome, fans! Ask, share and help each other. Be kind, and have fun.\n\n"
                "- 質問は **質問箱** へ / Questions go to **Questions**\n"
                "- 役に立った投稿には ♥ を / Like what helped you"
            ),
            tags=["welcome", "はじめに"],
        ),
    )
    await service.moderate_topic(session, mod, welcome.id, TopicModerationIn(pinned=True))

    flavour, opening = await service.create_topic(
        session,
        hana,
        TopicIn(
            category_id=ids["lounge"],
            title="新作フレーバーの感想 / Thoughts on the new flavour",
            body="春の新作、さっそく試しました！柚子の香りがとても爽やかです。みなさんはどうでしたか？",
            tags=["新作", "flavour"],
        ),
    )
    await service.create_reply(
        session,
        alex,
        flavour.id,
        ReplyIn(
            body=(
                f"[quote={opening.id}]\n柚子の香りがとても爽やかです。\n[/quote]\n\n"
                "Agreed, @hana! The yuzu one is my favourite so far."
            ),
            reply_to_post_id=opening.id,
        ),
    )
    await service.create_reply(
        session,
        mod,
        flavour.id,
        ReplyIn(body="Thanks for sharing! 開発チームにも感想を伝えておきますね。"),
    )
    await service.like_post(session, alex, opening.id)
    await service.like_post(session, yuki, opening.id)

    question, _ = await service.create_topic(
        session,
        yuki,
        TopicIn(
            category_id=ids["help"],
            title="商品写真をきれいに撮るコツは？ Tips for product photos?",
            body="パッケージを撮るとどうしても反射してしまいます。How do you avoid glare?",
            tags=["写真", "photo"],
        ),
    )
    answer, _ = await service.create_reply(
        session,
        ops,
        question.id,
        ReplyIn(
            body=(
                "窓際の自然光で、光源に対して少し角度をつけて撮ると反射が減ります。\n\n"
                "Shoot near a window and tilt the package slightly away from the light."
            )
        ),
    )
    await service.create_reply(
        session,
        admin,
        question.id,
        ReplyIn(
            body="A sheet of white paper as a reflector also helps. 白い紙がレフ板になります。"
        ),
    )
    await qa.vote(session, hana, answer.id, 1)
    await qa.vote(session, alex, answer.id, 1)
    await qa.accept(session, yuki, answer.id)

    _lounge, first = await service.create_topic(
        session,
        ops,
        TopicIn(
            category_id=ids["ambassadors"],
            title="アンバサダー限定：新商品の先行体験 / Early access for ambassadors",
            body="来月発売の新商品を先行でお届けします。感想をぜひ聞かせてください。",
            tags=["ambassador"],
        ),
    )
    await service.edit_post(
        session,
        ops,
        first.id,
        PostEditIn(
            body=(
                "来月発売の新商品を先行でお届けします。感想をぜひ聞かせてください。\n\n"
                "We are sending next month's product to you first. Tell us what you think!"
            )
        ),
    )
