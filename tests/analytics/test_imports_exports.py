"""Member import from CSV (row-by-row report, re-import updates) and CSV export escaping."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Member, MemberExternal, Role

CSV = """email,name,external_id,purchase_count,purchase_total,tier
ok@example.com,Okay Fan,C-1,3,"1,200.50",gold
not-an-email,Bad,C-2,,,
noname@example.com,,C-3,,,
x@example.com,X,C-4,-1,,
y@example.com,Y,C-5,1,12.345,
ok@example.com,Again,C-6,,,
=2+3@example.com,Formula,C-7,,,silver
"""


async def _members(database) -> int:
    async with database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Member)))


async def test_import_reports_each_rejected_line_and_reimport_updates(
    client, member_factory, login, database
):
    await login(client, await member_factory(role=Role.operator))
    before = await _members(database)
    page = await client.submit("/ops/import", {"csv_text": CSV})
    assert page.status_code == 200
    # "=2+3@example.com" is a valid address: it is imported, and exported neutralised below.
    assert "2 created, 0 updated, 5 rejected." in page.text
    for line, reason in [
        (3, "Enter a valid email address."),
        (4, "name: This field is required."),
        (5, "purchase_count: enter a whole number of 0 or more."),
        (6, "purchase_total: use at most two decimal places."),
        (7, "This member already appears on an earlier line."),
    ]:
        assert f"<td>{line}</td><td>{reason}</td>" in page.text
    assert await _members(database) == before + 2

    again = (
        "email,name,external_id,purchase_count,tier\n"
        "new-address@example.com,Okay Renamed,C-1,5,platinum\n"
    )
    token = await client.csrf_token()
    upload = await client.post(
        "/ops/import",
        files={"file": ("members.csv", again.encode(), "text/csv")},
        data={"csrf_token": token},
    )
    assert "0 created, 1 updated, 0 rejected." in upload.text
    assert await _members(database) == before + 2
    async with database.transaction(write=False) as session:
        member, external = (
            await session.execute(
                select(Member, MemberExternal)
                .join(MemberExternal, MemberExternal.member_id == Member.id)
                .where(MemberExternal.external_id == "C-1")
            )
        ).one()
    assert (member.email, member.display_name, member.email_verified_at) == (
        "new-address@example.com",
        "Okay Renamed",
        None,
    )
    assert (external.external_id, external.purchase_count, external.purchase_total_minor) == (
        "C-1",
        5,
        120050,
    )
    assert external.attributes == {"tier": "platinum"}
    # Nobody can sign in to an imported account until its owner claims it.
    signin = await client.submit(
        "/signin", {"email": "new-address@example.com", "password": "!imported:"}
    )
    assert signin.status_code in (400, 403)

    missing = await client.submit("/ops/import", {"csv_text": "mail,name\na@b.c,A\n"})
    assert missing.status_code == 422
    assert "missing: email" in missing.text
    export = await client.get("/ops/members.csv?q=example.com")
    assert "'=2+3@example.com" in export.text
    assert ",=2+3" not in export.text


async def test_member_export_neutralises_formulas(client, member_factory, login):
    await member_factory(name="=HYPERLINK(1)")
    await member_factory(name="@SUM")
    await login(client, await member_factory(role=Role.operator))
    csv = await client.get("/ops/members.csv")
    assert csv.status_code == 200
    assert csv.headers["content-disposition"] == 'attachment; filename="members.csv"'
    assert "'=HYPERLINK(1)" in csv.text
    assert "'@SUM" in csv.text
    assert ",=HYPERLINK" not in csv.text
    filtered = await client.get("/ops/members.csv?q=hyperlink")
    assert filtered.text.count("\r\n") == 2
    bad = await client.get("/ops/members?max_decile=42")
    assert bad.status_code == 422
