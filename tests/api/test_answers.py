"""api.answers: a handler's answer must be an instance of exactly the model its operation
declares for the status, and is serialized through it (money keeps its digits)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask
from flask_openapi3 import APIBlueprint
from sqlalchemy import update

from api.answers import AnswerMismatch, RenderedAnswer, declared_answer_body, render_answer, send_declared_answer
from api.checkout import PlaceOrderResponse
from api.jsonprovider import DecimalJSONProvider
from api.schemas import CamelModel, Money, Ratio
from core.idempotency.models import IdempotencyRecord
from web.requests import mark_api_blueprint


class Price(CamelModel):
    unit_price: Money
    discount: Ratio
    seen_at: datetime
    note: str | None


class OtherPrice(CamelModel):
    unit_price: Money


class SpecialPrice(Price):
    pass


RESPONSES = {200: Price, 201: Price, 204: None, 400: OtherPrice}


def a_price(**fields) -> Price:
    values = {"unit_price": Decimal("10"), "discount": Decimal("0.1250"),
              "seen_at": datetime(2024, 12, 1, 15, 30, tzinfo=timezone.utc), "note": None}
    return Price(**{**values, **fields})


@pytest.fixture
def json_app():
    """A bare Flask app with the API's JSON provider, in an app context."""
    app = Flask(__name__)
    app.json = DecimalJSONProvider(app)
    with app.app_context():
        yield app


def test_the_declared_model_is_serialized_by_alias_with_exact_money(json_app):
    body = declared_answer_body(a_price(), 200, RESPONSES)
    assert body == '{"unitPrice":10.00,"discount":0.125,"seenAt":"2024-12-01T15:30:00Z","note":null}'


def test_money_is_quantized_to_cents_and_never_a_float():
    assert a_price(unit_price=Decimal("19.995")).unit_price == Decimal("20.00")
    assert str(a_price(discount=Decimal("0.1500")).discount) == "0.15"
    with pytest.raises(ValueError):
        a_price(unit_price=19.99)


def test_a_dict_where_a_model_is_declared_fails(json_app):
    with pytest.raises(AnswerMismatch, match="declares .*Price, but the handler returned an instance of builtins.dict"):
        declared_answer_body({"unitPrice": 10}, 200, RESPONSES)


def test_a_list_where_a_model_is_declared_fails(json_app):
    with pytest.raises(AnswerMismatch, match="builtins.list"):
        declared_answer_body([a_price()], 200, RESPONSES)


def test_a_model_of_another_class_fails(json_app):
    with pytest.raises(AnswerMismatch, match="OtherPrice"):
        declared_answer_body(OtherPrice(unit_price=Decimal("1.00")), 200, RESPONSES)


def test_a_subclass_of_the_declared_model_fails(json_app):
    """Exactly the declared class: a subclass could send fields the document does not show."""
    special = SpecialPrice(**a_price().model_dump())
    with pytest.raises(AnswerMismatch, match="SpecialPrice"):
        declared_answer_body(special, 200, RESPONSES)


def test_a_status_the_operation_does_not_declare_fails(json_app):
    with pytest.raises(AnswerMismatch, match="status 202, which its operation does not declare"):
        declared_answer_body(a_price(), 202, RESPONSES)


def test_a_status_declared_without_a_model_must_be_empty(json_app):
    assert declared_answer_body("", 204, RESPONSES) == ""
    with pytest.raises(AnswerMismatch, match="without a body"):
        declared_answer_body(a_price(), 204, RESPONSES)


def test_a_rendered_answer_must_come_from_the_declared_model_and_fit_it(json_app):
    body = render_answer(a_price())
    assert declared_answer_body(RenderedAnswer(Price, body), 200, RESPONSES) == body
    with pytest.raises(AnswerMismatch, match="rendered from OtherPrice"):
        declared_answer_body(RenderedAnswer(OtherPrice, '{"unitPrice": 1.00}'), 200, RESPONSES)
    with pytest.raises(AnswerMismatch, match="does not fit its model"):
        declared_answer_body(RenderedAnswer(Price, '{"unitPrice": 1.00}'), 200, RESPONSES)


def test_the_tuple_forms_of_a_view_keep_status_and_headers(json_app):
    created = send_declared_answer((a_price(), 201, {"Location": "/prices/1"}), RESPONSES)
    assert (created.status_code, created.mimetype) == (201, "application/json")
    assert created.headers["Location"] == "/prices/1"
    replayed = send_declared_answer((a_price(), {"Idempotent-Replayed": "true"}), RESPONSES)
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (200, "true")
    empty = send_declared_answer(("", 204), RESPONSES)
    assert (empty.status_code, empty.get_data()) == (204, b"")
    with pytest.raises(AnswerMismatch):
        send_declared_answer((a_price(), 400), RESPONSES)


WRONG_ANSWERS = {"another model": lambda: OtherPrice(unit_price=Decimal("10")), "a dict": lambda: {"unitPrice": 10},
                 "a list": lambda: [{"unitPrice": 10}]}


def _app_with_a_wrong_answer(make_app, wrong: str, **config):
    bp = APIBlueprint("answers_probe", __name__, url_prefix="/api/probe")

    @bp.get("/price", responses={200: Price})
    def wrong_price():
        return WRONG_ANSWERS[wrong]()

    app = make_app(**config)
    app.register_api(bp)
    mark_api_blueprint(app, bp)
    return app


@pytest.mark.parametrize("wrong", sorted(WRONG_ANSWERS))
def test_a_handler_answering_other_than_its_model_fails_loudly_in_tests(make_app, wrong):
    client = _app_with_a_wrong_answer(make_app, wrong).test_client()
    with pytest.raises(AnswerMismatch):
        client.get("/api/probe/price")


def test_outside_tests_a_mismatch_is_a_500_problem(make_app):
    client = _app_with_a_wrong_answer(make_app, "a dict", TESTING=False).test_client()
    response = client.get("/api/probe/price")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "unitPrice" not in response.get_data(as_text=True)


def test_a_replayed_order_passes_the_same_check(client, shop):
    store = shop()
    session_id = store.cart_with(("PROD001", 1))
    key = "0b8e3f5c-4c1e-4a57-9d5e-0d7b1f0a9c11"
    first = store.place_order(session_id, key)
    again = store.place_order(session_id, key)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    PlaceOrderResponse.model_validate_json(first.get_data())

    with store.db() as session:  # a stored answer that no longer fits PlaceOrderResponse
        session.execute(update(IdempotencyRecord).values(response_body='{"orderId": "x"}'))
    with pytest.raises(AnswerMismatch, match="PlaceOrderResponse document does not fit"):
        store.place_order(session_id, key)
