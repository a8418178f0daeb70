"""Forms of the portals (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import (EmailField, HiddenField, IntegerField, PasswordField, SearchField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, NumberRange, Optional

from core.tenancy.features import FEATURES, LIMITS


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
    value); the fields are made from FEATURES and LIMITS below the class."""

    def feature_overrides(self) -> dict[str, bool | None]:
        values = {"plan": None, "on": True, "off": False}
        return {name: values[self[f"feature_{name}"].data] for name in FEATURES}

    def limit_overrides(self) -> dict[str, int | None]:
        return {name: self[f"limit_{name}"].data for name in LIMITS}

    @classmethod
    def for_tenant(cls, tenant):
        """The form showing the tenant's current overrides (a POST's values take their place)."""
        data = {f"feature_{n}": {True: "on", False: "off"}.get((tenant.feature_overrides or {}).get(n), "plan")
                for n in FEATURES}
        data.update({f"limit_{n}": (tenant.limit_overrides or {}).get(n) for n in LIMITS})
        return cls(data=data)


for _feature in FEATURES:
    setattr(OverridesForm, f"feature_{_feature}", SelectField(_feature, choices=FEATURE_CHOICES))
for _limit in LIMITS:
    setattr(OverridesForm, f"limit_{_limit}",
            IntegerField(_limit, validators=[Optional(), NumberRange(min=0, max=2_147_483_647)]))


class StoreAdminForm(FlaskForm):
    admin_email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False),
                                                  Length(max=254)])
    admin_password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                                   description="At least 8 characters.")


class CustomerForm(FlaskForm):
    """The fields of core.customers.CustomerData; it validates them (as the partner API does)."""

    store = SelectField("Store", validators=[DataRequired()], validate_choice=False)
    name = StringField("Company name")
    contact_email = EmailField("Contact email")
    phone = StringField("Phone", description="International form, e.g. +44 20 7946 0958.")
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


class ReplenishForm(FlaskForm):
    store = HiddenField(validators=[DataRequired()])
    product = HiddenField(validators=[DataRequired()])
    q = HiddenField()
    quantity = IntegerField("Units to add", validators=[
        InputRequired("Enter how many units to add."), NumberRange(min=1, message="Add at least 1 unit."),
        NumberRange(max=2_147_483_647, message="Add at most 2147483647 units at a time.")])
