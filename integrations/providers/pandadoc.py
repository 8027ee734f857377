"""PandaDoc: proposals and contracts sent for e-signature (the Documents role).

API reference: https://developers.pandadoc.com/reference/about
Documents are created asynchronously (status ``document.uploaded`` until processed) and can be
sent only once they are drafts. Our idempotency key is stored in the document's metadata and
searched before a create, so a retried create returns the first document. The list filter only
narrows the search: a document is reused only once its own metadata carries our key, so a filter
the vendor ignored can never hand one client's proposal to another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, PermanentError, Rate, TransientError
from integrations.registry import register_provider
from integrations.values import Document, DocumentState, Recipient

DOCUMENTS = (
    "documents"  # https://developers.pandadoc.com/reference/create-document-from-pandadoc-template, list-documents
)
DOCUMENT = "documents/{id}"  # https://developers.pandadoc.com/reference/document-status
DOCUMENT_DETAILS = "documents/{id}/details"  # https://developers.pandadoc.com/reference/document-details
SEND = "documents/{id}/send"  # https://developers.pandadoc.com/reference/send-document
CURRENT_MEMBER = "members/current/"  # https://developers.pandadoc.com/reference/get-current-member

KEY_FIELD = "st_key"  # our metadata field; the list filter is ``metadata=metadata_<field>=<value>``

# https://developers.pandadoc.com/reference/document-status ("a complete list of all possible document
# statuses"). The UI's "Expired" is document.voided; there is no document.expired.
_STATUS: dict[str, DocumentState] = {
    "document.uploaded": "draft",
    "document.error": "failed",  # creation failed; terminal
    "document.draft": "draft",
    "document.waiting_approval": "draft",
    "document.approved": "draft",
    "document.sent": "sent",
    "document.external_review": "sent",  # sealed and shared, with the recipient's reviewer
    "document.viewed": "viewed",
    "document.waiting_pay": "sent",
    "document.completed": "completed",
    "document.paid": "completed",
    "document.declined": "declined",
    "document.rejected": "declined",
    "document.voided": "voided",
}


class PandaDocument(pydantic.BaseModel):
    id: str
    name: str = ""
    status: str


class DocumentList(pydantic.BaseModel):
    results: list[PandaDocument] = []


class DocumentDetails(PandaDocument):
    metadata: dict[str, Any] | None = None


class Member(pydantic.BaseModel):
    email: str = ""
    user_id: str = ""


def _document(doc: PandaDocument) -> Document:
    return Document(
        document_id=doc.id,
        name=doc.name,
        status=_STATUS.get(doc.status, "unknown"),
        url=f"https://app.pandadoc.com/a/#/documents/{doc.id}",
    )


@register_provider("documents", "pandadoc")
class PandaDocClient(BaseClient):
    name = "pandadoc"
    base_url = "https://api.pandadoc.com/public/v1"
    api_key_name = "PANDADOC_API_KEY"
    required_keys = ("PANDADOC_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=5, per_second=1.0)  # document creation: 500/minute, sends lower

    def auth_headers(self, operation: str) -> dict[str, str]:
        return {"Authorization": f"API-Key {self._require_key(operation)}"}

    def find_by_key(self, idempotency_key: str) -> PandaDocument | None:
        """The document created earlier under this key, if any; never one merely listed first."""
        key = idempotency_key[:200]
        found = self.get(
            DOCUMENTS,
            operation="find_document",
            model=DocumentList,
            params={"metadata": f"metadata_{KEY_FIELD}={key}", "count": 1},
        )
        for listed in found.results:
            # List items carry no metadata: read the document's own before trusting the filter.
            details = self.get(DOCUMENT_DETAILS.format(id=listed.id), operation="find_document", model=DocumentDetails)
            if (details.metadata or {}).get(KEY_FIELD) == key and details.status != "document.error":
                return details
        return None

    def create_document(
        self,
        *,
        idempotency_key: str,
        name: str,
        recipients: Sequence[Recipient],
        template_id: str = "",
        fields: Mapping[str, str] | None = None,
        content: str = "",
    ) -> Document:
        existing = self.find_by_key(idempotency_key)
        if existing is not None:
            return _document(existing)
        body: dict[str, Any] = {
            "name": name,
            "recipients": [
                {"email": r.email, "first_name": r.first_name, "last_name": r.last_name, "role": r.role or "Client"}
                for r in recipients
            ],
            "tokens": [{"name": k, "value": v} for k, v in (fields or {}).items()],
            "metadata": {KEY_FIELD: idempotency_key[:200]},
        }
        if template_id:
            created = self.post(
                DOCUMENTS, operation="create_document", model=PandaDocument, json={**body, "template_uuid": template_id}
            )
        else:
            # https://developers.pandadoc.com/reference/create-document-from-file: multipart file + JSON data
            created = self.request_json(
                "POST",
                DOCUMENTS,
                operation="create_document",
                model=PandaDocument,
                files={
                    "file": (f"{name}.html", content.encode(), "text/html"),
                    "data": (None, json.dumps({**body, "parse_form_fields": False}), "application/json"),
                },
            )
        return _document(created)

    def send_document(self, *, document_id: str, subject: str = "", message: str = "") -> Document:
        current = self.get(DOCUMENT.format(id=document_id), operation="send_document", model=PandaDocument)
        if current.status == "document.uploaded":
            raise TransientError("document is still being processed", provider=self.name, operation="send_document")
        if current.status == "document.error":
            raise PermanentError("document creation failed at PandaDoc", provider=self.name, operation="send_document")
        if _STATUS.get(current.status) != "draft":
            return _document(current)  # already sent (a retried send): nothing to do
        sent = self.post(
            SEND.format(id=document_id),
            operation="send_document",
            model=PandaDocument,
            json={"subject": subject, "message": message, "silent": False},
        )
        return _document(sent)

    def get_status(self, document_id: str) -> Document:
        return _document(self.get(DOCUMENT.format(id=document_id), operation="get_status", model=PandaDocument))

    def ping(self) -> str:
        member = self.get(CURRENT_MEMBER, operation="health_check", model=Member, attempts=1)
        return f"member {member.email or member.user_id}"
