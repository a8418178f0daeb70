"""Flask-WTF forms of the shop pages. They check the shape of what a shopper typed (so that an
error shows beside its field); the rules of the shop itself stay in the core services."""
from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import DecimalField, EmailField, HiddenField, IntegerField, RadioField, SearchField, SelectField
from wtforms import TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from core.catalog.listing import MAX_SEARCH_LENGTH
from core.catalog.rules import MAX_PRICE
from core.orders.models import PaymentMethod
from core.orders.placement import OrderContact
from core.validation import MAX_QUANTITY, normalize_phone, strip_whitespace

PAYMENT_LABELS = {PaymentMethod.CREDIT_CARD: "Credit card", PaymentMethod.PAYPAL: "PayPal",
                  PaymentMethod.CASH_ON_DELIVERY: "Cash on delivery"}


def _finite(_form, field) -> None:
    """'NaN' and 'Infinity' parse as Decimals but are no price."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Enter a number.")


class CatalogFilterForm(FlaskForm):
    """The catalog's search and filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    search = SearchField("Search products", validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)])
    # Its choices come with the catalog page (offer_categories), after validation.
    category = SelectField("Category", choices=[SelectChoice("", "All categories")], validators=[Optional()],
                           validate_choice=False)
    min_price = DecimalField("Min price", places=2, validators=[Optional(), _finite, NumberRange(min=0, max=MAX_PRICE)])
    max_price = DecimalField("Max price", places=2, validators=[Optional(), _finite, NumberRange(min=0, max=MAX_PRICE)])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, message="Page must be 1 or more.")])

    # The bounds the page's inputs show (the catalog page writes its inputs itself: rendering
    # them through WTForms' widgets cost a fifth of the page).
    SEARCH_MAX = MAX_SEARCH_LENGTH
    PRICE_MAX = MAX_PRICE

    # The service's names for the fields (its ValidationFailed errors are keyed by them).
    SERVICE_FIELDS = {"search": "search", "categoryId": "category", "minPrice": "min_price",
                      "maxPrice": "max_price", "page": "page"}

    def validate_min_price(self, field) -> None:
        """A range the wrong way round finds nothing (the catalog's API answers an empty page);
        the page says why beside the field instead."""
        if field.data is not None and self.max_price.data is not None and field.data > self.max_price.data:
            raise ValidationError("Min price must not be greater than max price.")

    def offer_categories(self, categories) -> None:
        """The store's active categories as the category's choices; a category asked for that is
        not one of them is the error beside the field (as SelectField's own check words it, in
        place of the listing's complaint about its form)."""
        self.category.choices = [SelectChoice("", "All categories"),
                                 *(SelectChoice(c.id, c.name) for c in categories)]
        if self.category.data and all(c.id != self.category.data for c in categories):
            self.category.errors = [self.category.gettext("Not a valid choice.")]

    def query(self) -> dict:
        """The filters that are set, by their query-string names (for links to other pages)."""
        values = {"search": (self.search.data or "").strip(), "category": self.category.data if self.category else "",
                  "min_price": self.min_price.raw_data[0] if self.min_price.raw_data else "",
                  "max_price": self.max_price.raw_data[0] if self.max_price.raw_data else ""}
        return {name: value for name, value in values.items() if value}


class AddToCartForm(FlaskForm):
    product_id = HiddenField()
    quantity = IntegerField("Quantity", default=1, validators=[
        InputRequired("Enter a quantity."),
        NumberRange(min=1, max=MAX_QUANTITY, message="Quantity must be a whole number of at least 1.")])


class CartQuantityForm(FlaskForm):
    quantity = IntegerField("Quantity", validators=[
        InputRequired("Enter a quantity."),
        NumberRange(min=1, max=MAX_QUANTITY, message="Enter a quantity of at least 1 (or remove the item).")])


class RemoveItemForm(FlaskForm):
    """Only the CSRF token."""


class PaymentMethodField(RadioField):
    """A radio group whose only message, when nothing is chosen, is its DataRequired's."""

    def pre_validate(self, form) -> None:
        if self.data:
            super().pre_validate(form)


def _international_phone(_form, field) -> None:
    try:
        field.data = normalize_phone(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _uuid(_form, field) -> None:
    try:
        uuid.UUID(field.data or "")
    except ValueError:
        raise ValidationError("This form has expired; reload the checkout page.") from None


class CheckoutForm(FlaskForm):
    # Rendered into the form when the checkout page is shown: a resubmission of this form (a
    # double click, the browser's "resend") is the same request, so it places one order.
    idempotency_key = HiddenField(validators=[_uuid])
    # The digest of the prices the page shows (core.orders.pricing.prices_shown): placing the
    # order confirms the shopper saw them.
    prices_seen = HiddenField()
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254),
                                            Email("Enter a valid email address, like name@example.com.")])
    phone = TelField("Phone", description="International form, e.g. +44 20 7946 0958", filters=[strip_whitespace],
                     validators=[DataRequired("Enter your phone number."), _international_phone])
    shipping_address = TextAreaField("Shipping address", validators=[
        DataRequired("Enter the address to ship to."), Length(max=2000)])
    payment_method = PaymentMethodField("Payment method", choices=[SelectChoice(m.value, PAYMENT_LABELS[m]) for m in PaymentMethod],
                                validators=[DataRequired("Choose a payment method.")])

    def contact(self) -> OrderContact:
        """The validated order fields (the phone already in E.164)."""
        return OrderContact(email=self.email.data.strip(), phone=self.phone.data,
                            shipping_address=self.shipping_address.data.strip(),
                            payment_method=PaymentMethod(self.payment_method.data))
