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


@pytest.mark.parametrize("url, parameter", [
    ("/api/v1/needs?status=null&status=null", "status"), ("/api/v1/needs?status=open&status=funded", "status"),
    ("/api/v1/impact?period=null", "period"), ("/api/v1/needs?lang=xx", "lang"), ("/api/v1/impact?lang=fr", "lang"),
    ("/api/v1/needs?page=abc", "page"), ("/api/v1/needs?page=0", "page"), ("/api/v1/needs?page=100000", "page"),
    ("/api/v1/needs?per_page=1000", "per_page"), ("/api/v1/needs?sort=random", "sort"),
    ("/api/v1/needs?closing=-1", "closing"), ("/api/v1/needs/{id}?lang=de", "lang"),
    ("/api/v1/needs/{id}/impact?lang=null", "lang"),
])
def test_parameters_the_document_forbids_get_a_400_it_describes(client, session, spec, url, parameter):
    need = f.need()
    session.commit()
    response = client.get(url.replace("{id}", str(need.id)))
    assert response.status_code == 400, url
    _validate(response.json, spec, "Error")
    assert {detail["parameter"] for detail in response.json["error"]["details"]} == {parameter}
    assert all(detail["in"] == "query" and detail["problem"] for detail in response.json["error"]["details"])
    for path, item in spec["paths"].items():  # every operation documents that answer
        assert item["get"]["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}, path


def test_parameters_the_document_allows_still_work(client, session):
    need = f.need(dong="pungam")
    session.commit()
    for url in ("/api/v1/needs?status=all&sort=newest&page=1&per_page=100&lang=en&closing=30&q=%00x",
                "/api/v1/impact?period=12m&lang=ko", f"/api/v1/needs/{need.id}?lang=en",
                "/api/v1/needs?unknown=ignored", f"/api/v1/needs/{need.id}/ledger.csv"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_method_the_api_does_not_take_is_a_405_that_says_which_it_does(client, session, method):
    for url in ("/api/v1/needs", "/api/v1/impact", "/api/v1/openapi.json"):
        response = client.open(url, method=method)
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
        assert response.json["error"]["status"] == 405
    page = client.open("/needs", method=method)
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
