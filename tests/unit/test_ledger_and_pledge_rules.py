import pytest

from kindcity.domain import ledger as L
from kindcity.domain.pledges import (MIN_PLEDGE, REFERENCE_ALPHABET, PledgeAction, PledgeRuleError, PledgeStatus,
                                     PledgeTransitionNotAllowed, new_reference, next_status, pledge_amount,
                                     split_payment)


def _sum(posting):
    return sum(line.amount for line in posting.lines)


@pytest.mark.parametrize("posting", [
    L.pledged(1, 2, 100_000), L.released(1, 2, 5_000), L.received(1, 150_000, need_id=2, placed=100_000,
                                                                   converted_hold=80_000),
    L.allocated(1, 2, 10_000), L.unallocated(1, 2, 10_000), L.moved_to_pool(1, 3_000), L.refunded(1, 3_000),
    L.disbursed(2, 50_000), L.received(9, 1_000),
])
def test_every_posting_balances_in_whole_won(posting):
    assert _sum(posting) == 0
    assert all(isinstance(line.amount, int) and line.amount != 0 for line in posting.lines)


def test_received_places_and_converts():
    posting = L.received(1, 150_000, need_id=2, placed=100_000, converted_hold=80_000)
    by_account = {}
    for line in posting.lines:
        by_account[line.account] = by_account.get(line.account, 0) + line.amount
    assert by_account == {"cash": 150_000, "pledge:1": -50_000, "need:2": -100_000, "hold:2": 80_000,
                          "promise:1": -80_000}


def test_money_placed_at_once_does_not_pass_through_the_pledge_account():
    whole = L.received(1, 20_000, need_id=2, placed=20_000, converted_hold=20_000)
    assert sorted(whole.lines) == sorted([L.Line("cash", 20_000), L.Line("need:2", -20_000),
                                          L.Line("hold:2", 20_000), L.Line("promise:1", -20_000)])
    unplaced = L.received(9, 1_000)
    assert unplaced.lines == (L.Line("cash", 1_000), L.Line("pledge:9", -1_000))


@pytest.mark.parametrize("bad", [(1.0, 0, 0), (True, 0, 0), (100, 50.0, 0), (100, 50, True), (0, 0, 0)])
def test_received_refuses_amounts_that_are_not_whole_positive_won(bad):
    amount, placed, converted = bad
    with pytest.raises(L.LedgerError):
        L.received(1, amount, need_id=2, placed=placed, converted_hold=converted)


@pytest.mark.parametrize("bad", [0, -5, 1.0, True, "100"])
def test_bad_amounts_refused(bad):
    with pytest.raises(L.LedgerError):
        L.allocated(1, 2, bad)


def test_received_split_must_be_ordered():
    with pytest.raises(L.LedgerError):
        L.received(1, 100, need_id=2, placed=200)
    with pytest.raises(L.LedgerError):
        L.received(1, 100, need_id=2, placed=50, converted_hold=60)
    with pytest.raises(L.LedgerError):
        L.received(1, 100, placed=50)


def test_check_balanced_catches_unbalanced_lines():
    with pytest.raises(L.LedgerError):
        L.check_balanced([L.Line("cash", 100), L.Line("pool", -99)])
    with pytest.raises(L.LedgerError):
        L.check_balanced([L.Line("cash", 100.0), L.Line("pool", -100.0)])
    with pytest.raises(L.LedgerError):
        L.check_balanced([L.Line("cash", 0)])


PS, PA = PledgeStatus, PledgeAction


@pytest.mark.parametrize("status, action, expected", [
    (PS.AWAITING_PAYMENT, PA.PAY_FULL, PS.PAID), (PS.AWAITING_PAYMENT, PA.PAY_PART, PS.PARTLY_PAID),
    (PS.PARTLY_PAID, PA.PAY_FULL, PS.PAID), (PS.AWAITING_PAYMENT, PA.EXPIRE, PS.EXPIRED),
    (PS.AWAITING_PAYMENT, PA.CANCEL, PS.CANCELLED), (PS.PAID, PA.CLOSE, PS.CLOSED),
    (PS.EXPIRED, PA.PAY_FULL, PS.PAID), (PS.CANCELLED, PA.PAY_FULL, PS.CANCELLED),
])
def test_pledge_transitions(status, action, expected):
    assert next_status(status, action) == expected


@pytest.mark.parametrize("status, action", [
    (PS.PAID, PA.CANCEL), (PS.PARTLY_PAID, PA.CANCEL), (PS.CLOSED, PA.EXPIRE), (PS.CANCELLED, PA.CLOSE),
    (PS.PAID, PA.EXPIRE),
])
def test_pledge_transitions_refused(status, action):
    with pytest.raises(PledgeTransitionNotAllowed):
        next_status(status, action)


def test_pledge_amount_rules():
    assert pledge_amount(amount=50_000, units=None, unit_cost=None, gap=100_000) == 50_000
    assert pledge_amount(amount=None, units=2, unit_cost=150_000, gap=600_000) == 300_000
    for kwargs, code in [
        (dict(amount=MIN_PLEDGE - 1, units=None, unit_cost=None, gap=10**6), "amount_too_small"),
        (dict(amount=200_000, units=None, unit_cost=None, gap=100_000), "not_enough_left"),
        (dict(amount=None, units=5, unit_cost=150_000, gap=600_000), "not_enough_left"),
        (dict(amount=None, units=1, unit_cost=None, gap=600_000), "units_not_priced"),
        (dict(amount=None, units=None, unit_cost=None, gap=600_000), "amount_required"),
    ]:
        with pytest.raises(PledgeRuleError) as raised:
            pledge_amount(**kwargs)
        assert raised.value.code == code


@pytest.mark.parametrize("kwargs, expected", [
    # exact payment of a held pledge
    (dict(amount=100, promised=100, paid_before=0, hold_left=100, need_room=0), (100, 100, 0, True)),
    # partial payment
    (dict(amount=40, promised=100, paid_before=0, hold_left=100, need_room=0), (40, 40, 0, False)),
    # over-payment: the surplus beyond the promise
    (dict(amount=130, promised=100, paid_before=0, hold_left=100, need_room=500), (100, 100, 30, True)),
    # late payment after the hold expired, need still has room
    (dict(amount=100, promised=100, paid_before=0, hold_left=0, need_room=500), (100, 0, 0, True)),
    # late payment, need filled meanwhile: everything is surplus
    (dict(amount=100, promised=100, paid_before=0, hold_left=0, need_room=0), (0, 0, 100, True)),
    # late payment, need has only part of the room
    (dict(amount=100, promised=100, paid_before=0, hold_left=0, need_room=30), (30, 0, 70, True)),
    # second transfer after the pledge is already paid
    (dict(amount=50, promised=100, paid_before=100, hold_left=0, need_room=999), (0, 0, 50, True)),
])
def test_split_payment(kwargs, expected):
    split = split_payment(**kwargs)
    assert (split.to_need, split.from_hold, split.surplus, split.completes) == expected
    assert split.to_need + split.surplus == kwargs["amount"]


def test_reference_codes_are_unambiguous():
    codes = {new_reference() for _ in range(500)}
    assert len(codes) > 490
    for code in codes:
        assert code.startswith("KC") and len(code) == 8
        assert set(code[2:]) <= set(REFERENCE_ALPHABET)
        assert not set(code[2:]) & set("01ILOU")
