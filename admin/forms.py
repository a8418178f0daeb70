"""Forms of the portals (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DecimalField, EmailField, HiddenField, IntegerField, PasswordField, SearchField,
                     SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.auth.models import CLIENT_ROLES
from core.errors import DomainError
from core.tenancy.features import Feature, Limit
from core.validation import MAX_QUANTITY, strip_whitespace


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


# --- the super-admin portal -------------------------------------------------------------------
# Rules the domain owns (slug format, reserved slugs, customer fields) are checked by the core
# services, so the pages and the API refuse the same things with the same words; these forms
# only parse.

class ProvisionTenantForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=63)],
                       description="Lowercase letters, digits and single hyphens; the store's subdomain.")
    name = StringField("Store name", validators=[DataRequired(), Length(max=200)])
    plan = SelectField("Plan", validators=[DataRequired()], validate_choice=False)


class TenantStatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(["Suspended", "Ready"])])


class PlanForm(FlaskForm):
    plan_code = SelectField("Plan", validators=[DataRequired()], validate_choice=False)


FEATURE_CHOICES = [SelectChoice("plan", "Plan's value"), SelectChoice("on", "On"), SelectChoice("off", "Off")]


class OverridesForm(FlaskForm):
    """A select per feature (the plan's value, on, off) and a number per limit (blank: the plan's
    value); the fields are made from Feature and Limit below the class."""

    def feature_overrides(self) -> dict[str, bool | None]:
        values = {"plan": None, "on": True, "off": False}
        return {name: values[self[f"feature_{name}"].data] for name in Feature}

    def limit_overrides(self) -> dict[str, int | None]:
        return {name: self[f"limit_{name}"].data for name in Limit}

    @classmethod
    def for_tenant(cls, tenant):
        """The form showing the tenant's current overrides (a POST's values take their place)."""
        data = {f"feature_{n}": {True: "on", False: "off"}.get((tenant.feature_overrides or {}).get(n), "plan")
                for n in Feature}
        data.update({f"limit_{n}": (tenant.limit_overrides or {}).get(n) for n in Limit})
        return cls(data=data)


for _feature in Feature:
    setattr(OverridesForm, f"feature_{_feature}", SelectField(_feature, choices=FEATURE_CHOICES))
for _limit in Limit:
    setattr(OverridesForm, f"limit_{_limit}",
            IntegerField(_limit, validators=[Optional(), NumberRange(min=0, max=MAX_QUANTITY)]))


class StoreAdminForm(FlaskForm):
    admin_email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False),
                                                  Length(max=254)])
    admin_password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                                   description="At least 8 characters.")


class CustomerForm(FlaskForm):
    """The fields of core.customers.CustomerData; it validates them (as the partner API does)."""

    # The partner API's names (CustomerData's aliases) of the fields whose names differ here.
    DOMAIN_FIELDS = {"contactEmail": "contact_email", "externalRef": "external_ref"}

    store = SelectField("Store", validators=[DataRequired()], validate_choice=False)
    name = StringField("Company name")
    contact_email = EmailField("Contact email")
    phone = StringField("Phone", description="International form, e.g. +44 20 7946 0958.", filters=[strip_whitespace])
    address = TextAreaField("Address")
    external_ref = StringField("External reference", description="Your own id of this customer (optional).")

    def customer_values(self) -> dict:
        """The customer's fields as CustomerData takes them; blank optional fields are left out."""
        values = {"name": self.name.data or "", "contact_email": self.contact_email.data or ""}
        for name in ("phone", "address", "external_ref"):
            if (self[name].data or "").strip():
                values[name] = self[name].data
        return values


class IssueCredentialsForm(FlaskForm):
    """Only its CSRF token: the button is the whole form."""


class ProductSearchForm(FlaskForm):
    """GET form: bookmarkable, no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    store = SelectField("Store", validate_choice=False)
    q = SearchField("Name or SKU", validators=[Optional(), Length(max=100)])


class TenantReplenishForm(FlaskForm):
    """The super admin's replenishment: a store and one of its products."""
    store = HiddenField(validators=[DataRequired()])
    product = HiddenField(validators=[DataRequired()])
    q = HiddenField()
    quantity = IntegerField("Units to add", validators=[
        InputRequired("Enter how many units to add."), NumberRange(min=1, message="Add at least 1 unit."),
        NumberRange(max=MAX_QUANTITY, message=f"Add at most {MAX_QUANTITY} units at a time.")])
def show_domain_error(form: FlaskForm, exc: DomainError, fields: dict[str, str] | None = None,
                      default: str | None = None) -> int:
    """Put a domain error beside the fields it names and return its status code to answer with.
    ValidationFailed.errors and DomainError.field use the API's field names (`lowStockThreshold`,
    `contactEmail`); `fields` maps them onto this form's fields (a name the form has maps to
    itself). An error that names no field goes beside `default`, or above the form; one naming
    no field of the form, above the form."""
    fields = fields or {}
    for key, messages in (exc.errors or {}).items():
        name = fields.get(key, key)
        if name in form:
            form[name].errors = [*form[name].errors, *messages]
        else:
            form.form_errors.append(f"{key}: {' '.join(messages)}")
    if not exc.errors:
        target = fields.get(exc.field, exc.field) if exc.field else default
        if target and target in form:
            form[target].errors = [*form[target].errors, exc.detail]
        else:
            form.form_errors.append(exc.detail)
    return exc.status


# --- store admin ---------------------------------------------------------------------------------

def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_attributes(text: str | None) -> dict[str, str]:
    """'name: value' lines → {name: value}; ValueError naming the first bad line."""
    attributes: dict[str, str] = {}
    for line in _lines(text):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"'{line[:60]}' is not 'name: value'.")
        if name.strip() in attributes:
            raise ValueError(f"'{name.strip()}' is given twice.")
        attributes[name.strip()] = value.strip()
    return attributes


def format_attributes(attributes: dict | None) -> str:
    return "\n".join(f"{name}: {value}" for name, value in (attributes or {}).items())


OPTION_LINE = re.compile(r"^(?P<name>[^:]+?)\s*(?:\((?P<flag>required|optional)\))?\s*(?::(?P<values>.*))?$",
                         re.IGNORECASE)


def parse_customization(text: str | None) -> dict[str, dict]:
    """Lines 'name', 'name (required)' or 'name (required): value1, value2' → the product's
    customization_options ({name: {"required": bool, "values": [...]}}); ValueError otherwise."""
    options: dict[str, dict] = {}
    for line in _lines(text):
        match = OPTION_LINE.match(line)
        if not match or not match["name"].strip() or "(" in match["name"]:
            raise ValueError(f"'{line[:60]}' is not 'name (required): value1, value2'.")
        name = match["name"].strip()
        if name in options:
            raise ValueError(f"'{name}' is given twice.")
        option: dict = {"required": (match["flag"] or "").lower() == "required"}
        values = [value.strip() for value in (match["values"] or "").split(",") if value.strip()]
        if values:
            option["values"] = values
        options[name] = option
    return options


def format_customization(options: dict | None) -> str:
    lines = []
    for name, option in (options or {}).items():
        line = name + (" (required)" if option.get("required") else "")
        if option.get("values"):
            line += ": " + ", ".join(map(str, option["values"]))
        lines.append(line)
    return "\n".join(lines)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (one per choice), rendered inside a fieldset with a legend."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProductForm(FlaskForm):
    """A product's details as the store admin edits them. The form only parses (numbers, the
    one-per-line text areas); the rules are core.catalog.rules', shown beside the fields."""

    # The domain's error keys (the API's field names) → this form's fields.
    DOMAIN_FIELDS = {"sku": "sku", "name": "name", "price": "price", "discount": "discount",
                     "quantity": "quantity", "lowStockThreshold": "low_stock_threshold", "categoryIds": "categories",
                     "images": "images", "dynamicAttributes": "dynamic_attributes",
                     "customizationOptions": "customization_options"}

    name = StringField("Name", validators=[Length(max=1000)])
    description = TextAreaField("Description", validators=[Length(max=10_000)])
    price = DecimalField("Price", places=None, render_kw={"inputmode": "decimal"})
    discount = DecimalField("Discount (a fraction from 0 to 1: 0.15 is 15 % off)", places=None, default=0,
                            render_kw={"inputmode": "decimal"})
    low_stock_threshold = IntegerField("Low-stock threshold (units)", default=10, render_kw={"inputmode": "numeric"})
    is_active = BooleanField("Active: shown in the storefront", default=True)
    categories = MultiCheckboxField("Categories", choices=[], validate_choice=False)
    images = TextAreaField("Image URLs, one per line", render_kw={"rows": 3})
    dynamic_attributes = TextAreaField("Attributes, one per line as name: value", render_kw={"rows": 4})
    customization_options = TextAreaField(
        "Customization options, one per line: name, name (required) or name (required): value1, value2",
        render_kw={"rows": 3})

    def validate_dynamic_attributes(self, field):
        try:
            parse_attributes(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_customization_options(self, field):
        try:
            parse_customization(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def product_values(self) -> dict:
        """The keyword arguments of create_product / update_product."""
        return {"name": self.name.data, "description": self.description.data or "", "price": self.price.data,
                "discount": self.discount.data, "low_stock_threshold": self.low_stock_threshold.data,
                "is_active": self.is_active.data, "category_ids": list(self.categories.data or []),
                "images": _lines(self.images.data), "dynamic_attributes": parse_attributes(self.dynamic_attributes.data),
                "customization_options": parse_customization(self.customization_options.data)}

    @staticmethod
    def initial(product) -> dict:
        """The form's values for an existing product."""
        return {"name": product.name, "description": product.description, "price": product.price,
                "discount": product.discount.normalize() if product.discount else 0,
                "low_stock_threshold": product.low_stock_threshold, "is_active": product.is_active,
                "categories": [category.id for category in product.categories],
                "images": "\n".join(product.images or []),
                "dynamic_attributes": format_attributes(product.dynamic_attributes),
                "customization_options": format_customization(product.customization_options)}


class NewProductForm(ProductForm):
    sku = StringField("SKU", validators=[Length(max=1000)])
    quantity = IntegerField("Initial stock (units)", default=0, render_kw={"inputmode": "numeric"})


class ReplenishForm(FlaskForm):
    quantity = IntegerField("Units to add", render_kw={"inputmode": "numeric"})


class CancelOrderForm(FlaskForm):
    """Only its CSRF token: the order is in the URL."""


ROLE_LABELS = {"partner": "Partner (provisions customers)", "customer": "Customer (buys for one customer)",
               "store_admin": "Store admin (inventory writes)", "service": "Service"}


class ApiClientForm(FlaskForm):
    DOMAIN_FIELDS = {"name": "name", "role": "role", "customerId": "customer_id"}

    name = StringField("Name", validators=[Length(max=1000)])
    role = SelectField("Role", choices=[SelectChoice(role.value, ROLE_LABELS[role.value]) for role in CLIENT_ROLES],
                       validate_choice=False)
    customer_id = SelectField("Customer (for a customer client)", choices=[], validate_choice=False)
