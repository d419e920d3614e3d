"""No input a user can type makes the site answer 500 (issue 12, item 4)."""
import re

import pytest
from sqlalchemy import select

from kindcity.models import Need

from kindcity.web.params import numbers_up_to
from tests import factories as f

_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
BIG_IDS = (2**31, 2**63, 10**30)


def _id_routes(app):
    """(rule, method, id names, other values) for every route whose path holds a number."""
    routes = []
    for rule in app.url_map.iter_rules():
        ids, fixed = [], {}
        for match in _VARIABLE.finditer(rule.rule):
            converter, name = match["converter"] or "default", match["name"]
            if converter in ("int", "id"):
                ids.append(name)
            elif converter == "any":
                fixed[name] = match["args"].split(",")[0].strip()
            else:
                fixed[name] = "x"
        if ids:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule.rule, method, ids, fixed))
    return routes


def _url(rule: str, values: dict) -> str:
    return _VARIABLE.sub(lambda m: str(values[m["name"]]), rule)


def test_every_id_route_is_bounded(app):
    routes = _id_routes(app)
    assert len(routes) >= 50  # the walk found the site's routes, GET and POST
    unbounded = [rule for rule, _, _, _ in routes if "<int:" in rule]
    assert unbounded == []


@pytest.mark.parametrize("role", ["anonymous", "donor", "staff", "admin"])
def test_huge_ids_are_not_found_on_every_route(client, session, app, role):
    people = {"donor": lambda: f.user("donor"), "staff": lambda: f.user("staff", centre_code="district-welfare"),
              "admin": lambda: f.user("admin")}
    if role != "anonymous":
        person = people[role]()
        session.commit()
        f.login(client, person)
    failures = []
    for rule, method, ids, fixed in _id_routes(app):
        for name in ids:
            for big in BIG_IDS:
                url = _url(rule, {**fixed, **{other: 1 for other in ids}, name: big})
                response = client.open(url, method=method)
                if response.status_code >= 500:
                    failures.append((method, url, response.status_code))
                elif role == "admin" or (role == "staff" and rule.startswith("/staff")):
                    # those who may see the page at all are told it does not exist
                    if response.status_code not in (400, 404):
                        failures.append((method, url, response.status_code))
    assert failures == []


@pytest.mark.parametrize("url", ["/needs?page={n}", "/api/v1/needs?page=10000", "/staff/audit?before={n}",
                                 "/needs?page=-{n}", "/staff/audit?after={n}", "/staff/audit?before=-{n}"])
def test_page_numbers_beyond_any_offset_are_answered(client, session, url):
    staff = f.user("staff", centre_code="district-welfare")
    session.commit()
    f.login(client, staff)
    for n in (2**31, 2**63, 10**40, "9" * 5000):
        response = client.get(url.format(n=n))
        assert response.status_code == 200, (url, n)


@pytest.mark.parametrize("limit", [10, 305, 1000, 2**31 - 1])
def test_the_id_pattern_takes_exactly_one_to_the_limit(limit):
    pattern = re.compile(numbers_up_to(limit))
    for number in [*range(0, 1200), limit - 1, limit, limit + 1, limit * 10, *range(limit - 50, limit + 50)]:
        assert bool(pattern.fullmatch(str(number))) == (1 <= number <= limit), number
    assert not pattern.fullmatch("01") and not pattern.fullmatch("-1")


def test_unit_pricing_beyond_the_largest_amount_is_refused(client, session):
    from tests.web.test_staff import _form

    f.login(client, f.user("staff"))
    session.commit()
    page = client.post("/staff/needs/new?lang=en", data=_form(unit_cost="10,000,000,000,000", units="100000"))
    assert page.status_code == 200
    assert "The target must be at most 10,000,000,000,000 won" in page.get_data(as_text=True)
    assert session.scalar(select(Need).where(Need.title == "학교 밖 청소년 수학여행")) is None


def test_an_amount_of_two_numbers_is_refused(client, session):
    from tests.web.test_staff import _form

    f.login(client, f.user("staff"))
    session.commit()
    page = client.post("/staff/needs/new?lang=en", data=_form(unit_cost="1000 1000", units="25"))
    assert "Please enter one amount only, for example 150,000." in page.get_data(as_text=True)
    assert session.scalar(select(Need).where(Need.title == "학교 밖 청소년 수학여행")) is None
    client.post("/staff/needs/new?lang=en", data=_form(unit_cost="480 000원", units="25"))
    assert session.scalar(select(Need.target).where(Need.title == "학교 밖 청소년 수학여행")) == 12_000_000
