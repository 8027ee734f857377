"""Operations console for meetings, proposals, clients, invoices and payments.

Statuses are read-only here: they move through the actions, which call the services (the state
machines and their side effects live there). Invoices and payments are created through their
services too, because only the service may assign an invoice number or settle an invoice.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from sales.models import (
    CallPerformance,
    Client,
    FathomRecording,
    Invoice,
    InvoiceSequence,
    Meeting,
    MeetingNote,
    MeetingParticipant,
    Payment,
    Proposal,
)
from sales.services import clients, invoices, meetings, proposals
from smarter_team import clock
from smarter_team.admin import (
    AppendOnlyAdmin,
    BaseAdmin,
    CreateThroughServiceMixin,
    ReadOnlyInline,
    StackedInline,
    TabularInline,
    console_formfield,
    currency_code,
    run_service_action,
)

# --- meetings ---------------------------------------------------------------------------------


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("lead") and not data.get("client"):
            raise forms.ValidationError("Choose the lead or the client this meeting is with.")
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The meeting must end after it starts.")
        return data


class MeetingParticipantInline(TabularInline):
    model = MeetingParticipant
    extra = 0
    fields = ("email", "name", "role", "attended")


class MeetingNoteInline(StackedInline):
    model = MeetingNote
    extra = 0
    fields = ("kind", "content", "action_items", "source")


@admin.register(Meeting)
class MeetingAdmin(BaseAdmin):
    form = MeetingForm
    list_display = ("__str__", "kind", "status", "starts_at", "lead", "client", "no_show_attempts")
    list_select_related = ("lead", "client__company")
    list_filter = ("status", "kind")
    search_fields = ("title", "booking_uid", "lead__email", "lead__last_name", "client__company__name")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("lead", "client")
    system_fields = ("status", "booking_uid", "reminder_24h_sent_at", "reminder_1h_sent_at", "no_show_attempts")
    inlines = (MeetingParticipantInline, MeetingNoteInline)
    actions = ("mark_held", "mark_no_show", "cancel")

    @admin.action(description="Mark held")
    def mark_held(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        run_service_action(self, request, queryset, lambda m: meetings.mark_meeting_held(meeting=m), "Marked held")

    @admin.action(description="Mark no-show")
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        run_service_action(
            self, request, queryset, lambda m: meetings.mark_meeting_no_show(meeting=m), "Marked no-show"
        )

    @admin.action(description="Cancel")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        run_service_action(self, request, queryset, lambda m: meetings.cancel_meeting(meeting=m), "Canceled")


@admin.register(MeetingParticipant)
class MeetingParticipantAdmin(BaseAdmin):
    list_display = ("email", "name", "role", "attended", "meeting")
    list_select_related = ("meeting",)
    list_filter = ("role", "attended")
    search_fields = ("email", "name", "meeting__title")
    autocomplete_fields = ("meeting",)


@admin.register(MeetingNote)
class MeetingNoteAdmin(BaseAdmin):
    list_display = ("meeting", "kind", "source", "created_at")
    list_select_related = ("meeting",)
    list_filter = ("kind",)
    search_fields = ("meeting__title", "content", "source")
    autocomplete_fields = ("meeting",)


@admin.register(FathomRecording)
class FathomRecordingAdmin(BaseAdmin):
    list_display = ("recording_id", "meeting", "transcript_status", "created_at")
    list_select_related = ("meeting",)
    list_filter = ("transcript_status",)
    search_fields = ("recording_id", "meeting__title")
    autocomplete_fields = ("meeting",)


class CallPerformanceForm(forms.ModelForm):
    class Meta:
        model = CallPerformance
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ratio = data.get("talk_ratio")
        if ratio is not None and not 0 <= ratio <= 1:
            self.add_error("talk_ratio", "The talk ratio is a share between 0 and 1.")
        raised, handled = data.get("objections_raised"), data.get("objections_handled")
        if raised is not None and handled is not None and handled > raised:
            self.add_error("objections_handled", "More objections handled than raised.")
        return data


@admin.register(CallPerformance)
class CallPerformanceAdmin(BaseAdmin):
    form = CallPerformanceForm
    list_display = ("meeting", "talk_ratio", "questions_asked", "objections_raised", "objections_handled")
    list_select_related = ("meeting",)
    list_filter = ("next_step_agreed",)
    search_fields = ("meeting__title",)
    autocomplete_fields = ("meeting",)


# --- proposals and clients --------------------------------------------------------------------


class ProposalForm(forms.ModelForm):
    class Meta:
        model = Proposal
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))

    def clean_line_items(self) -> Any:
        items = self.cleaned_data.get("line_items") or []
        if "line_items" in self.changed_data and self.instance.pk and self.instance.status not in proposals.EDITABLE:
            raise forms.ValidationError(f"A {self.instance.status} proposal cannot be repriced.")
        if not isinstance(items, list):
            raise forms.ValidationError("Line items are a list of {description, quantity, unit_price}.")
        proposals.price_line_items(items)  # raises with the line and the problem
        return items

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("lead") or data.get("company") or data.get("client")):
            raise forms.ValidationError("Choose the lead, the company or the client this proposal is for.")
        return data


@admin.register(Proposal)
class ProposalAdmin(BaseAdmin):
    form = ProposalForm
    list_display = ("title", "status", "lead", "company", "client", "total", "currency", "sent_at", "signed_at")
    list_select_related = ("lead", "company", "client__company")
    list_filter = ("status", "currency")
    search_fields = ("title", "document_id", "lead__email", "company__name", "company__domain")
    date_hierarchy = "created_at"
    autocomplete_fields = ("lead", "company", "client", "meeting")
    system_fields = ("status", "total", "document_id", "sent_at", "signed_at", "follow_ups_sent")
    actions = ("request_approval", "mark_signed", "mark_declined", "create_client")

    def save_model(self, request: HttpRequest, obj: Proposal, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "line_items" in form.changed_data or not change:
            # The service prices the lines (Decimal, rounded per line) and owns the total.
            proposals.set_proposal_line_items(proposal=obj, line_items=obj.line_items)
            obj.refresh_from_db(fields=["line_items", "total"])

    @admin.action(description="Request approval")
    def request_approval(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        run_service_action(
            self, request, queryset, lambda p: proposals.request_proposal_approval(proposal=p), "Awaiting approval"
        )

    @admin.action(description="Mark signed")
    def mark_signed(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        run_service_action(self, request, queryset, lambda p: proposals.mark_proposal_signed(proposal=p), "Signed")

    @admin.action(description="Mark declined")
    def mark_declined(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        run_service_action(self, request, queryset, lambda p: proposals.mark_proposal_declined(proposal=p), "Declined")

    @admin.action(description="Create client from signed proposal")
    def create_client(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        run_service_action(
            self, request, queryset, lambda p: clients.create_client_from_proposal(proposal=p), "Clients ready"
        )


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))


@admin.register(Client)
class ClientAdmin(BaseAdmin):
    form = ClientForm
    list_display = ("company", "status", "monthly_value", "currency", "health_score", "started_on", "contract_end")
    list_select_related = ("company",)
    list_filter = ("status", "currency")
    search_fields = ("company__name", "company__domain", "stripe_customer_id")
    autocomplete_fields = ("company", "primary_contact")
    system_fields = ("status", "health_score", "stripe_customer_id")


# --- invoices and payments --------------------------------------------------------------------


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(AppendOnlyAdmin):
    """Visible for audits; written only under the numbering lock (a hand edit would make gaps)."""

    list_display = ("year", "last_number")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("provider_event_id", "status", "amount", "currency", "paid_at", "failure_reason")
    readonly_fields = fields


INVOICE_INPUT_FIELDS = ("client", "proposal", "kind", "amount", "currency", "due_on")


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        client, proposal = data.get("client"), data.get("proposal")
        if client and proposal and proposal.client_id not in (None, client.pk):
            self.add_error("proposal", "This proposal belongs to another client.")
        due_on = data.get("due_on")
        if not self.instance.pk and due_on and due_on < clock.today():
            self.add_error("due_on", "A new invoice cannot be due in the past.")
        return data


@admin.register(Invoice)
class InvoiceAdmin(CreateThroughServiceMixin, BaseAdmin):
    """Adding an invoice runs ``create_invoice``: the number is taken under the sequence lock, in
    the same transaction as the insert, so the admin can never leave a gap or a duplicate."""

    form = InvoiceForm
    list_display = ("number", "client", "kind", "status", "amount", "currency", "due_on", "paid_at", "dunning_stage")
    list_select_related = ("client__company",)
    list_filter = ("status", "kind", "currency")
    search_fields = ("number", "provider_id", "accounting_id", "client__company__name")
    date_hierarchy = "due_on"
    autocomplete_fields = ("client", "proposal")
    system_fields = (
        "number",
        "year",
        "sequence",
        "status",
        "provider_id",
        "accounting_id",
        "issued_on",
        "paid_at",
        "dunning_stage",
        "last_dunning_at",
        "key",
        "payment_url",
        "disputed_at",
    )
    inlines = (PaymentInline,)
    actions = ("issue", "void", "mark_uncollectible")

    def get_fields(self, request: HttpRequest, obj: Invoice | None = None) -> Any:
        if obj is None:
            return INVOICE_INPUT_FIELDS
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Invoice | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Invoice.Status.DRAFT:
            fields += ["client", "proposal", "kind", "amount", "currency"]  # what was sent is what is owed
        return fields

    def create_through_service(self, request: HttpRequest, form: Any) -> Invoice:
        return invoices.create_invoice(**{name: form.cleaned_data[name] for name in INVOICE_INPUT_FIELDS})

    @admin.action(description="Issue (draft to open)")
    def issue(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        run_service_action(self, request, queryset, lambda i: invoices.issue_invoice(invoice=i), "Issued")

    @admin.action(description="Void")
    def void(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        run_service_action(self, request, queryset, lambda i: invoices.void_invoice(invoice=i), "Voided")

    @admin.action(description="Mark uncollectible")
    def mark_uncollectible(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        run_service_action(
            self, request, queryset, lambda i: invoices.mark_invoice_uncollectible(invoice=i), "Uncollectible"
        )


PAYMENT_INPUT_FIELDS = ("invoice", "amount", "currency", "status", "paid_at", "provider_payment_id")


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)
        labels = {"provider_payment_id": "Reference"}

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        invoice, currency = data.get("invoice"), data.get("currency")
        if invoice and currency and currency != invoice.currency:
            self.add_error("currency", f"Invoice {invoice.number} is in {invoice.currency}.")
        return data


@admin.register(Payment)
class PaymentAdmin(CreateThroughServiceMixin, BaseAdmin):
    """A ledger: rows come from provider events or from an operator's manual entry (which settles
    the invoice through the same service); no row is ever edited or deleted."""

    form = PaymentForm
    list_display = ("provider_event_id", "invoice", "status", "amount", "currency", "paid_at")
    list_select_related = ("invoice",)
    list_filter = ("status", "currency")
    search_fields = ("provider_event_id", "provider_payment_id", "invoice__number")
    date_hierarchy = "created_at"
    autocomplete_fields = ("invoice",)
    system_fields = ("provider_event_id", "accounting_id")

    def get_fields(self, request: HttpRequest, obj: Payment | None = None) -> Any:
        if obj is None:
            return PAYMENT_INPUT_FIELDS
        return super().get_fields(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"paid_at": clock.now(), **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def create_through_service(self, request: HttpRequest, form: Any) -> Payment:
        data = form.cleaned_data
        return invoices.record_manual_payment(
            invoice=data["invoice"],
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            paid_at=data.get("paid_at"),
            reference=data.get("provider_payment_id", ""),
        )
