"""The public API answers as its OpenAPI document says."""
import pytest
from openapi_schema_validator import OAS30Validator, validate

from kindcity.domain.needs import NeedStatus
from tests import factories as f


@pytest.fixture
def spec(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    return document


def _validate(instance, spec, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    validate(instance, schema, cls=OAS30Validator)


def test_list_and_detail_match_the_spec(client, session, spec):
    unit = f.need(title="단가 수요", unit_cost=150_000, units=40, confirmed=300_000)
    f.need(title="금액 수요", target=2_000_000)
    f.need(title="초안", status=NeedStatus.DRAFT)
    session.commit()
    listing = client.get("/api/v1/needs?per_page=100").json
    _validate(listing, spec, "NeedPage")
    titles = [item["title"] for item in listing["items"]]
    assert "단가 수요" in titles and "금액 수요" in titles and "초안" not in titles
    detail = client.get(f"/api/v1/needs/{unit.id}").json
    _validate(detail, spec, "Need")
    assert detail["target_won"] == 6_000_000 and detail["received_won"] == 300_000
    assert detail["gap_won"] == 5_700_000
    assert detail["unit_pricing"] == {"unit_name": "회", "unit_cost_won": 150_000, "units": 40}
    assert isinstance(detail["target_won"], int)


def test_filters_and_pagination(client, session, spec):
    for n in range(3):
        f.need(title=f"API 수요 {n}", dong="pungam")
    session.commit()
    page = client.get("/api/v1/needs", query_string={"dong": "pungam", "per_page": 2, "page": 2}).json
    _validate(page, spec, "NeedPage")
    assert page["total"] >= 3 and page["per_page"] == 2 and len(page["items"]) >= 1
    assert all(item["dong"]["code"] == "pungam" for item in page["items"])
    english = client.get("/api/v1/needs", query_string={"dong": "pungam", "lang": "en"}).json
    assert english["items"][0]["dong"]["name"] == "Pungam-dong"


def test_unknown_need_is_a_json_404(client, session, spec):
    response = client.get("/api/v1/needs/987654")
    assert response.status_code == 404
    _validate(response.json, spec, "Error")


def test_every_documented_path_answers(client, session, spec):
    need = f.need()
    session.commit()
    for path in spec["paths"]:
        url = path.replace("{id}", str(need.id))
        assert client.get(url).status_code == 200, url
