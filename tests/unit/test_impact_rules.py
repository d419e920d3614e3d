"""The impact rules, without an app or a database: report lifecycle, spending, leftovers, tiers, aggregates."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kindcity.domain import impact as rules
from kindcity.domain.impact import (DeliveryFacts, RecognisedGift, ReportAction, ReportStatus, Tier, WallGroup)
from kindcity.web.public.charts import columns, horizontal_bars

S, A = ReportStatus, ReportAction
TODAY = date(2026, 3, 15)

EXPECTED = {
    (S.DRAFT, A.SUBMIT): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, A.RETURN): S.DRAFT,
    (S.AWAITING_APPROVAL, A.APPROVE): S.PUBLISHED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_and_action(status, action):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(rules.ReportTransitionNotAllowed) as raised:
            rules.next_status(status, action)
        assert raised.value.details == {"status": status.value, "action": action.value}
    else:
        assert rules.next_status(status.value, action.value) == expected


def test_published_is_final():
    assert rules.allowed_actions(S.PUBLISHED) == []
    assert rules.allowed_actions(S.AWAITING_APPROVAL) == [A.RETURN, A.APPROVE]


def test_approval_needs_a_different_staff_member():
    rules.check_approver(submitted_by=7, approver=8)
    for submitted_by in (7, None):
        with pytest.raises(rules.ReportSelfApproval):
            rules.check_approver(submitted_by=submitted_by, approver=7)


def facts(**changes) -> DeliveryFacts:
    values = dict(units_planned=40, units_delivered=38, beneficiaries_reached=11, delivered_from=date(2026, 2, 1),
                  delivered_to=date(2026, 3, 1), story="38번의 왕복을 지원했습니다.")
    values.update(changes)
    return DeliveryFacts(**values)


def test_a_complete_settled_report_is_ready():
    rules.check_ready_to_submit(facts(), held=0, spent=5_700_000, today=TODAY)


@pytest.mark.parametrize("changes, missing", [
    ({"units_delivered": None}, ["units_delivered"]),
    ({"beneficiaries_reached": None}, ["beneficiaries_reached"]),
    ({"delivered_to": None}, ["dates"]),
    ({"story": "   "}, ["story"]),
    ({"units_delivered": None, "story": ""}, ["units_delivered", "story"]),
])
def test_incomplete_reports_name_what_is_missing(changes, missing):
    with pytest.raises(rules.ReportIncomplete) as raised:
        rules.check_ready_to_submit(facts(**changes), held=0, spent=1, today=TODAY)
    assert raised.value.code == "report_incomplete" and raised.value.details["missing"] == missing


@pytest.mark.parametrize("changes, code", [
    ({"units_delivered": -1}, "units_delivered_invalid"),
    ({"units_planned": 0}, "units_planned_invalid"),
    ({"beneficiaries_reached": -3}, "beneficiaries_invalid"),
    ({"delivered_from": date(2026, 3, 2)}, "dates_reversed"),
    ({"delivered_to": date(2026, 3, 16)}, "dates_in_future"),
    ({"story": "가" * (rules.MAX_STORY + 1)}, "story_too_long"),
])
def test_impossible_values_are_refused_on_every_save(changes, code):
    with pytest.raises(rules.ReportIncomplete) as raised:
        rules.check_delivery_values(facts(**changes), TODAY)
    assert raised.value.code == code


def test_more_delivered_than_planned_is_allowed():
    rules.check_delivery_values(facts(units_delivered=42), TODAY)  # money went further than planned


def test_money_must_be_settled_before_reporting():
    with pytest.raises(rules.MoneyNotSettled) as held:
        rules.check_ready_to_submit(facts(), held=300_000, spent=5_700_000, today=TODAY)
    assert held.value.details == {"held": 300_000}
    with pytest.raises(rules.MoneyNotSettled) as nothing:
        rules.check_ready_to_submit(facts(), held=0, spent=0, today=TODAY)
    assert nothing.value.code == "nothing_spent"


@pytest.mark.parametrize("amount, held, spent_on, code", [
    (0, 100, TODAY, "disbursement_not_positive"),
    (-5, 100, TODAY, "disbursement_not_positive"),
    (1.5, 100, TODAY, "disbursement_not_positive"),
    (True, 100, TODAY, "disbursement_not_positive"),
    (101, 100, TODAY, "disbursement_exceeds_held"),
    (50, 100, date(2026, 3, 16), "disbursement_in_future"),
])
def test_disbursement_rules(amount, held, spent_on, code):
    with pytest.raises(rules.SpendingRefused) as raised:
        rules.check_disbursement(amount, held=held, spent_on=spent_on, today=TODAY)
    assert raised.value.code == code


def test_disbursement_of_everything_held_is_fine():
    rules.check_disbursement(100, held=100, spent_on=TODAY, today=TODAY)


# --- leftovers ----------------------------------------------------------------------------------

def test_leftover_split_in_proportion():
    assert rules.split_leftover(300_000, {1: 3_000_000, 2: 2_100_000, 3: 900_000}) == {1: 150_000, 2: 105_000,
                                                                                        3: 45_000}


def test_largest_remainder_gives_the_odd_won_deterministically():
    # 10 won over three equal-ish pledges: floors 3,3,3; the extra won goes to the largest remainder,
    # and between equal remainders to the larger pledge, then the smaller id.
    assert rules.split_leftover(10, {1: 33_333, 2: 33_333, 3: 33_334}) == {1: 3, 2: 3, 3: 4}
    assert rules.split_leftover(2, {5: 100, 4: 100, 6: 100}) == {4: 1, 5: 1}
    assert rules.split_leftover(1, {9: 1, 3: 1}) == {3: 1}


def test_leftover_edge_cases():
    assert rules.split_leftover(0, {1: 100}) == {}
    assert rules.split_leftover(100, {1: 100, 2: 0}) == {1: 100}
    with pytest.raises(rules.SpendingRefused) as raised:
        rules.split_leftover(101, {1: 100})
    assert raised.value.code == "leftover_unattributed"
    for bad in (-1, 1.0, True):
        with pytest.raises(rules.SpendingRefused):
            rules.split_leftover(bad, {1: 100})


@given(placed=st.dictionaries(st.integers(1, 10_000), st.integers(1, 10**9), min_size=1, max_size=30),
       fraction=st.fractions(0, 1))
def test_leftover_parts_add_up_exactly_and_never_exceed_what_was_placed(placed, fraction):
    total = sum(placed.values())
    leftover = int(total * fraction)
    parts = rules.split_leftover(leftover, placed)
    assert sum(parts.values()) == leftover
    assert all(0 < part <= placed[pid] for pid, part in parts.items())
    # each part is within one won of the exact proportional share
    assert all(abs(part * total - leftover * placed[pid]) < total for pid, part in parts.items())
    assert rules.split_leftover(leftover, dict(reversed(list(placed.items())))) == parts


# --- what a donor's money paid for ----------------------------------------------------------

@pytest.mark.parametrize("given_, spent, units, tenths, shown", [
    (300_000, 5_700_000, 38, 20, "2"),
    (285_000, 5_700_000, 38, 19, "1.9"),
    (855_000, 5_700_000, 38, 57, "5.7"),
    (5_700_000, 5_700_000, 38, 380, "38"),
    (9_000_000, 5_700_000, 38, 380, "38"),   # never more than was delivered
    (1, 5_700_000, 38, 0, "0"),
    (100, 0, 38, 0, "0"),
])
def test_units_paid_for(given_, spent, units, tenths, shown):
    assert rules.units_paid_for_tenths(given_, spent, units) == tenths
    assert rules.format_tenths(tenths) == shown


def test_overdue_reports():
    due = date(2026, 3, 14)
    assert rules.is_report_overdue(due, TODAY, "draft")
    assert rules.is_report_overdue(due, TODAY, S.AWAITING_APPROVAL)
    assert not rules.is_report_overdue(due, TODAY, S.PUBLISHED)
    assert not rules.is_report_overdue(TODAY, TODAY, S.DRAFT)  # due today is not yet late


# --- recognition ------------------------------------------------------------------------------

@pytest.mark.parametrize("total, tier", [(0, None), (-5, None), (1, Tier.NEIGHBOUR), (999_999, Tier.NEIGHBOUR),
                                         (1_000_000, Tier.STEADY), (9_999_999, Tier.STEADY),
                                         (10_000_000, Tier.LEADING)])
def test_tiers_by_cumulative_giving(total, tier):
    assert rules.tier_for(total) == tier


@pytest.mark.parametrize("display, kind, group", [
    ("organisation", "good_shop", WallGroup.GOOD_SHOPS), ("organisation", "business", WallGroup.GOOD_COMPANIES),
    ("organisation", "church", WallGroup.CHURCHES_AND_CIVIC), ("organisation", "civic", WallGroup.CHURCHES_AND_CIVIC),
    ("name", "business", WallGroup.RESIDENTS), ("name", None, WallGroup.RESIDENTS),
    ("anonymous", "business", None), ("organisation", None, None), ("organisation", "unknown", None),
])
def test_wall_groups(display, kind, group):
    assert rules.wall_group(display, kind) == group


def test_wall_adds_up_each_donor_and_shows_only_who_chose_to_be_shown():
    gifts = [
        RecognisedGift("org:1", "빛고을엘리베이터(주)", "organisation", "business", 6_000_000),
        RecognisedGift("org:1", "빛고을엘리베이터(주)", "organisation", "business", 4_000_000),
        RecognisedGift("org:2", "상무 착한국밥", "organisation", "good_shop", 300_000),
        RecognisedGift("user:5", "김서연", "name", None, 50_000),
        RecognisedGift("user:6", "익명", "anonymous", None, 90_000_000),
        RecognisedGift("user:7", "전액 환불", "name", None, 0),
        RecognisedGift("org:3", "가나다 교회", "organisation", "church", 1_000_000),
        RecognisedGift("org:4", "가나 교회", "organisation", "church", 1_000_000),
    ]
    wall = rules.build_wall(gifts)
    assert list(wall) == list(rules.WALL_GROUP_ORDER)
    assert [(e.name, e.tier, e.total) for e in wall[WallGroup.GOOD_COMPANIES]] == [
        ("빛고을엘리베이터(주)", Tier.LEADING, 10_000_000)]
    assert [e.name for e in wall[WallGroup.GOOD_SHOPS]] == ["상무 착한국밥"]
    assert [e.name for e in wall[WallGroup.RESIDENTS]] == ["김서연"]
    assert [e.name for e in wall[WallGroup.CHURCHES_AND_CIVIC]] == ["가나 교회", "가나다 교회"]  # equal: by name
    everyone = [e.name for entries in wall.values() for e in entries]
    assert "익명" not in everyone and "전액 환불" not in everyone


# --- aggregates ------------------------------------------------------------------------------

@pytest.mark.parametrize("period, expected", [
    ("all", (None, None)),
    ("nonsense", (None, None)),
    ("this_year", (date(2026, 1, 1), date(2027, 1, 1))),
    ("last_year", (date(2025, 1, 1), date(2026, 1, 1))),
    ("12m", (date(2025, 4, 1), date(2026, 4, 1))),
])
def test_periods(period, expected):
    assert rules.period_range(period, TODAY) == expected


def test_months():
    assert rules.add_months(date(2026, 11, 20), 3) == date(2027, 2, 1)
    assert rules.add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    series = rules.month_series([(date(2026, 1, 5), 100), (date(2026, 1, 30), 50), (date(2026, 3, 1), 7)],
                                date(2025, 12, 1), date(2026, 3, 31))
    assert series == [("2025-12", 0), ("2026-01", 150), ("2026-02", 0), ("2026-03", 7)]
    assert rules.month_series([], date(2026, 3, 1), date(2026, 1, 1)) == []
    long = rules.month_series([], date(2020, 1, 1), date(2026, 3, 1), max_months=36)
    assert len(long) == 36 and long[-1][0] == "2026-03"


def test_bar_lengths_are_whole_and_proportional():
    assert rules.bar_lengths([0, 50, 100, 1], 300) == [0, 150, 300, 3]
    assert rules.bar_lengths([1, 1_000_000_000], 300) == [1, 300]  # tiny but visible
    assert rules.bar_lengths([0, 0], 300) == [0, 0] and rules.bar_lengths([], 300) == []


def test_chart_geometry_fits_its_viewbox():
    chart = horizontal_bars([("의료·병원 이동", 5_700_000, "5,700,000원"), ("교육", 0, "0원"),
                             ("먹거리", 2_850_000, "2,850,000원")])
    assert chart.kind == "bars" and len(chart.bars) == 3
    widest = max(bar.x + bar.width for bar in chart.bars)
    assert widest <= chart.width - 140 and chart.bars[1].width == 0
    assert chart.bars[2].width * 2 == chart.bars[0].width
    assert all(bar.y + bar.height <= chart.height for bar in chart.bars)
    months = columns([(f"26.{m:02d}", m * 1000, "") for m in range(1, 25)])
    assert all(bar.y >= 0 and bar.x + bar.width <= months.width for bar in months.bars)
    assert [bar.show_label for bar in months.bars][:4] == [True, False, True, False]  # thinned out
    tallest = max(months.bars, key=lambda b: b.height)
    assert tallest.label == "26.24" and tallest.y + tallest.height == months.baseline[1]
