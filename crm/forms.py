"""Admin forms of the crm: normalise what operators type and explain what cannot be stored.

Model fields are narrow (E.164 phone, ISO country), so the form fields accept what people type
("+1 (415) 555-0123", "Germany") and the normalisers turn it into the stored form or a clear error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from crm.models import Company, Enrollment, Lead, Mailbox, SuppressionEntry, SuppressionEntryKind
from crm.services import normalize
from crm.services.campaigns import enrollment_refusal
from crm.services.suppression import value_hash
from smarter_team.admin import console_formfield

if TYPE_CHECKING:
    from crm.services.ingest import Prepared


def _normalised(value: str | None, normaliser: Any) -> str:
    if not value:
        return ""
    try:
        return str(normaliser(value))
    except ValueError as exc:
        raise forms.ValidationError(str(exc).capitalize(), code="invalid") from None


class LeadAdminForm(forms.ModelForm):
    phone = forms.CharField(required=False, max_length=40, help_text="any notation; stored as E.164 (+14155550123)")
    country = forms.CharField(required=False, max_length=64, help_text="ISO code or English name, e.g. DE or Germany")
    linkedin_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="LinkedIn URL")

    class Meta:
        model = Lead
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin narrows fields with its fieldsets and read-only lists

    def clean_email(self) -> str | None:
        return _normalised(self.cleaned_data.get("email"), normalize.normalize_email) or None

    def clean_country(self) -> str:
        return _normalised(self.cleaned_data.get("country"), normalize.normalize_country)

    def clean_time_zone(self) -> str:
        return _normalised(self.cleaned_data.get("time_zone"), normalize.normalize_time_zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The phone is read with the lead's country, so it is normalised after both fields are clean.
        phone = data.get("phone")
        if phone:
            try:
                data["phone"] = normalize.normalize_phone(phone, data.get("country") or None)
            except ValueError as exc:
                self.add_error("phone", str(exc).capitalize())
        return data


class CompanyAdminForm(forms.ModelForm):
    domain = forms.CharField(required=False, max_length=500, help_text="a domain, URL or address; stored bare")
    country = forms.CharField(required=False, max_length=64, help_text="ISO code or English name")

    class Meta:
        model = Company
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin narrows fields with its fieldsets and read-only lists

    def clean_domain(self) -> str | None:
        return _normalised(self.cleaned_data.get("domain"), normalize.normalize_domain) or None

    def clean_country(self) -> str:
        return _normalised(self.cleaned_data.get("country"), normalize.normalize_country)


class MailboxAdminForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin narrows fields with its fieldsets and read-only lists

    def clean_email(self) -> str:
        return _normalised(self.cleaned_data.get("email"), normalize.normalize_email)


class SuppressionAddForm(forms.ModelForm):
    """Collects an address or domain; the admin hands it to ``suppress`` (which also stops outreach)."""

    value = forms.CharField(max_length=500, label="Email or domain", help_text="an address, a domain or a URL")

    class Meta:
        model = SuppressionEntry
        formfield_callback = console_formfield
        fields = ("kind", "value", "reason", "source", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw, kind = data.get("value") or "", data.get("kind")
        if not raw or not kind:
            return data
        normaliser = normalize.normalize_email if kind == SuppressionEntryKind.EMAIL else normalize.normalize_domain
        try:
            value = normaliser(raw)
        except ValueError as exc:
            self.add_error("value", str(exc).capitalize())
            return data
        existing = SuppressionEntry.objects.filter(kind=kind, value_hash=value_hash(value)).first()
        if existing is not None:
            self.add_error(
                "value", f"{value} is already suppressed ({existing.reason}, {existing.created_at:%Y-%m-%d})."
            )
        data["value"] = value
        return data

    def _post_clean(self) -> None:
        # The service computes the hash and creates the row; skip model validation of the partial instance.
        pass


class EnrollmentAdminForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin narrows fields with its fieldsets and read-only lists

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead, campaign = data.get("lead"), data.get("campaign")
        if self.instance.pk is None and lead is not None and campaign is not None:
            why = enrollment_refusal(lead=lead, campaign=campaign)
            if why:
                raise forms.ValidationError(f"{lead} cannot be enrolled: {why}.")
        return data


class LeadImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 (or Excel) CSV with a header row; at most 10 MB")
    source = forms.CharField(max_length=64, initial="csv_import", help_text="stored as the lead's source")
    overwrite = forms.BooleanField(
        required=False,
        label="Overwrite stored values",
        help_text="replace stored values with the file's non-blank ones (blanks never erase anything)",
    )

    MAX_BYTES = 10 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB: split it into several imports.")
        return upload


class EmailUploadForm(forms.Form):
    """A saved email (.eml) or an exported mailbox (.mbox), checked whole before anything is recorded."""

    # Empty files reach clean_file, whose message says what an operator should upload instead.
    file = forms.FileField(label="Email file", help_text=".eml or .mbox, at most 20 MB", allow_empty_file=True)

    def clean_file(self) -> list[Prepared]:
        from crm.services import ingest

        upload = self.cleaned_data["file"]
        if upload.size > ingest.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"too big: {upload.size:,} bytes; at most {ingest.MAX_UPLOAD_BYTES:,} per upload "
                "(split the mailbox, or run manage.py ingest_email)"
            )
        try:
            return ingest.check_file(upload.read(), name=upload.name or "")
        except ingest.BadEmail as exc:
            raise forms.ValidationError(f"{upload.name}: {exc}. Nothing was recorded.") from None
