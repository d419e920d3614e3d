"""No input a user can type makes the site answer 500 (issue 12, item 4)."""
import re

import pytest

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


@pytest.mark.parametrize("url", ["/needs?page={n}", "/api/v1/needs?page=10000", "/staff/audit?page={n}",
                                 "/needs?page=-{n}", "/staff/audit?page=-{n}"])
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
