"""Each metric's definition against numbers worked out by hand (no database)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from app.analytics import advocates, metrics
from app.analytics.exports import neutralise, to_csv


def test_nps_and_its_margin_of_error():
    result = metrics.nps([10, 10, 9, 9, 8, 7, 6, 5, 0, 10])
    assert (result.promoters, result.passives, result.detractors) == (5, 2, 3)
    assert result.nps == pytest.approx(20.0)
    # p = 0.5, d = 0.3: variance = 0.8 - 0.04 = 0.76; MoE = 1.96 * sqrt(0.76 / 10) * 100
    assert result.margin == pytest.approx(54.0335, abs=1e-3)
    assert result.share("passive") == pytest.approx(20.0)
    assert result.low_sample
    assert result.distribution[10] == 3
    assert metrics.nps([]).nps is None
    assert metrics.nps([9] * 400).margin == 0.0
    assert not metrics.nps([9] * 400).low_sample
    with pytest.raises(ValueError, match="0 to 10"):
        metrics.nps([11])


def test_categories_edges():
    assert [metrics.nps_category(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]


def test_engagement_decays_ten_percent_a_month():
    today = date(2026, 3, 31)
    month_ago, two_months_ago = today - timedelta(days=30), today - timedelta(days=60)
    # 2 x 0.9 + 3 x 0.81 + 1 = 5.23
    expected = 2 * 0.9 + 3 * 0.81 + 1
    assert metrics.engagement_of(
        [(month_ago, 2), (two_months_ago, 3), (today, 1)], today, 0.1
    ) == pytest.approx(expected)
    base = sum(
        metrics.heat_increment(w, d, 0.1)
        for d, w in [(month_ago, 2), (two_months_ago, 3), (today, 1)]
    )
    assert metrics.engagement(base, today, 0.1) == pytest.approx(expected)
    # A month later everything has lost another 10%.
    assert metrics.engagement(base, today + timedelta(days=30), 0.1) == pytest.approx(
        expected * 0.9
    )


def test_deciles_and_their_shares():
    scores = {member_id: float(100 - member_id) for member_id in range(1, 21)}
    groups = metrics.deciles(scores)
    assert [groups[1], groups[2], groups[3], groups[20]] == [1, 1, 2, 10]
    assert metrics.decile_of(2, 20) == 2
    for population in (0, 1, 7, 10, 20, 99, 1001):
        ranked = metrics.deciles(dict.fromkeys(range(population), 0.0))
        assert metrics.decile_sizes(population) == {
            d: list(ranked.values()).count(d) for d in range(1, 11)
        }
    rows = metrics.decile_shares(metrics.decile_sizes(20), {1: (8, 4, 10), 10: (2, 0, 10)})
    assert rows[0].members == 2
    assert (rows[0].posts, rows[0].answers, rows[0].likes_received) == (80.0, 100.0, 50.0)
    assert rows[9].posts == 20.0
    # Ties break by id: the older member ranks first.
    assert metrics.deciles({5: 1.0, 3: 1.0}) == {3: 1, 5: 6}


def test_rfm_scores_and_groups():
    assert [metrics.recency_score(d) for d in (0, 7, 8, 30, 90, 180, 181, None)] == [
        5,
        5,
        4,
        4,
        3,
        2,
        1,
        1,
    ]
    assert [metrics.frequency_score(n) for n in (30, 12, 4, 1, 0)] == [5, 4, 3, 2, 1]
    assert [metrics.monetary_score(n) for n in (1000, 300, 100, 10, 9)] == [5, 4, 3, 2, 1]
    assert metrics.rfm_group(5, 5, 4, joined_days_ago=400) == "champions"
    assert metrics.rfm_group(3, 4, 1, joined_days_ago=400) == "loyal"
    assert metrics.rfm_group(5, 2, 1, joined_days_ago=3) == "new"
    assert metrics.rfm_group(2, 3, 1, joined_days_ago=400) == "at_risk"
    assert metrics.rfm_group(1, 1, 1, joined_days_ago=400) == "dormant"
    assert metrics.rfm_group(4, 2, 2, joined_days_ago=400) == "occasional"


def test_cohorts_and_churn():
    months = metrics.periods_between(date(2025, 2, 1), date(2025, 4, 30), "month")
    assert months == [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]
    # Two joined in February, one of them active in each month; one joined in March and was
    # active only then; nobody joined in April.
    rows = metrics.cohorts(months, {0: 2, 1: 1}, {(0, 0): 1, (0, 1): 1, (0, 2): 1, (1, 1): 1})
    assert [(r.period, r.size) for r in rows] == [
        (date(2025, 2, 1), 2),
        (date(2025, 3, 1), 1),
        (date(2025, 4, 1), 0),
    ]
    assert rows[0].shares == (50.0, 50.0, 50.0)
    assert rows[1].shares == (100.0, 0.0, None)
    assert rows[2].shares == (None, None, None)
    churn = metrics.churn(months, [1, 2, 1], [0, 1])
    assert [(r.period, r.active, r.churned, r.rate) for r in churn] == [
        (date(2025, 2, 1), 1, 1, 100.0),
        (date(2025, 3, 1), 2, 1, 50.0),
    ]
    assert metrics.churn(months[:1], [0], []) == []
    weeks = metrics.periods_between(date(2025, 3, 5), date(2025, 3, 17), "week")
    assert weeks == [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]


def test_active_counts_and_median():
    a, b, c = 1, 2, 3
    pairs = [
        (a, date(2025, 3, 1)),
        (a, date(2025, 3, 2)),
        (b, date(2025, 3, 2)),
        (c, date(2025, 2, 10)),
        (a, date(2025, 3, 10)),
    ]
    counts = {
        row.day: row for row in metrics.active_counts(pairs, date(2025, 3, 1), date(2025, 3, 12))
    }
    assert counts[date(2025, 3, 2)].dau == 2
    assert counts[date(2025, 3, 8)].wau == 2
    assert counts[date(2025, 3, 9)].wau == 0
    assert counts[date(2025, 3, 10)].mau == 3
    assert counts[date(2025, 3, 12)].mau == 2
    assert counts[date(2025, 3, 10)].stickiness == pytest.approx(100 / 3)
    assert metrics.median([3, 1, 2]) == 2
    assert metrics.median([4, 1]) == 2.5
    assert metrics.median([]) is None


def test_advocate_types():
    assert (
        advocates.advocate_type({("answer.created", "done"): 3, ("answer.accepted", "received"): 1})
        == "educator"
    )
    assert advocates.advocate_type({("like.given", "done"): 6}) == "validator"
    assert advocates.advocate_type({("topic.created", "done"): 3}) == "status_seeker"
    assert (
        advocates.advocate_type({("post.created", "done"): 2, ("campaign.entered", "done"): 1})
        == "collaborator"
    )
    assert advocates.advocate_type({("post.created", "done"): 4}) == ""


def test_csv_cells_that_look_like_formulas_are_neutralised():
    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("+1") == "'+1"
    assert neutralise("-2") == "'-2"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("\tx") == "'\tx"
    assert neutralise(-5) == -5
    assert neutralise("plain") == "plain"
    assert to_csv(["a", "b"], [["=1+1", 2]]) == "a,b\r\n'=1+1,2\r\n"
    assert math.isclose(neutralise(1 / 3), 0.3333)
