"""Google Drive (+ Docs for template fields): proposals and client folders (the Documents role).

API reference: https://developers.google.com/drive/api/reference/rest/v3
A document is a Google Doc; "sending" it shares it with the recipients (Drive emails them).
Our idempotency key and status live in the file's ``appProperties``; the recipients in its
description, so the file itself is the record and a retried create finds the first one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from integrations.providers._google import GoogleClient
from integrations.registry import register_provider
from integrations.values import Document, DocumentState, Recipient

FILES = "files"  # https://developers.google.com/drive/api/reference/rest/v3/files/list, files/create
FILE = "files/{id}"  # https://developers.google.com/drive/api/reference/rest/v3/files/get, files/update
COPY = "files/{id}/copy"  # https://developers.google.com/drive/api/reference/rest/v3/files/copy
PERMISSIONS = "files/{id}/permissions"  # https://developers.google.com/drive/api/reference/rest/v3/permissions/create
UPLOAD = "https://www.googleapis.com/upload/drive/v3/files"  # https://developers.google.com/drive/api/guides/manage-uploads#multipart
DOCS_BATCH_UPDATE = "https://docs.googleapis.com/v1/documents/{id}:batchUpdate"  # https://developers.google.com/docs/api/reference/rest/v1/documents/batchUpdate
ABOUT = "about"  # https://developers.google.com/drive/api/reference/rest/v3/about/get
GOOGLE_DOC = "application/vnd.google-apps.document"
FOLDER = "application/vnd.google-apps.folder"
FILE_FIELDS = "id,name,webViewLink,appProperties,description"


class DriveFile(pydantic.BaseModel):
    id: str
    name: str = ""
    webViewLink: str = ""
    appProperties: dict[str, str] = {}
    description: str = ""


class FileList(pydantic.BaseModel):
    files: list[DriveFile] = []
    nextPageToken: str | None = None


class Permission(pydantic.BaseModel):
    id: str


class _User(pydantic.BaseModel):
    emailAddress: str = ""


class About(pydantic.BaseModel):
    user: _User


def _document(file: DriveFile) -> Document:
    status = file.appProperties.get("st_status", "draft")
    known: tuple[DocumentState, ...] = ("draft", "sent", "viewed", "completed", "declined", "voided", "expired")
    return Document(
        document_id=file.id,
        name=file.name,
        url=file.webViewLink,
        status=next((s for s in known if s == status), "unknown"),
    )


def _key_property(idempotency_key: str) -> str:
    # appProperties allow 124 bytes for key + value: a uuid5 of the key always fits.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key))


@register_provider("documents", "google_drive")
class GoogleDriveClient(GoogleClient):
    name = "google_drive"
    base_url = "https://www.googleapis.com/drive/v3"

    def find_by_key(self, idempotency_key: str) -> DriveFile | None:
        query = f"appProperties has {{ key='st_key' and value='{_key_property(idempotency_key)}' }} and trashed=false"
        found = self.get(
            FILES,
            operation="find_document",
            model=FileList,
            params={"q": query, "fields": f"files({FILE_FIELDS})", "pageSize": 1},
        )
        return found.files[0] if found.files else None

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
        metadata: dict[str, Any] = {
            "name": name,
            "mimeType": GOOGLE_DOC,
            "appProperties": {"st_key": _key_property(idempotency_key), "st_status": "draft"},
            "description": json.dumps({"recipients": [r.model_dump() for r in recipients]}),
        }
        if template_id:
            file = self.post(
                COPY.format(id=template_id),
                operation="create_document",
                model=DriveFile,
                params={"fields": FILE_FIELDS},
                json=metadata,
            )
            if fields:
                self.fill_fields(file.id, fields)
        else:
            file = self.upload(metadata, content or name, operation="create_document")
        return _document(file)

    def upload(self, metadata: Mapping[str, Any], html: str, *, operation: str) -> DriveFile:
        boundary = f"st-{uuid.uuid4().hex}"
        body = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
            f"--{boundary}\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n{html}\r\n--{boundary}--\r\n"
        ).encode()
        return self.request_json(
            "POST",
            UPLOAD,
            operation=operation,
            model=DriveFile,
            content=body,
            params={"uploadType": "multipart", "fields": FILE_FIELDS},
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        )

    def fill_fields(self, document_id: str, fields: Mapping[str, str]) -> None:
        requests = [
            {"replaceAllText": {"containsText": {"text": f"{{{{{key}}}}}", "matchCase": True}, "replaceText": value}}
            for key, value in fields.items()
        ]
        self.request(
            "POST",
            DOCS_BATCH_UPDATE.format(id=document_id),
            operation="fill_fields",
            json={"requests": requests},
            idempotent=True,
        )

    def get_file(self, file_id: str, *, operation: str = "get_status") -> DriveFile:
        return self.get(FILE.format(id=file_id), operation=operation, model=DriveFile, params={"fields": FILE_FIELDS})

    def share(self, file_id: str, *, email: str, role: str = "commenter", message: str = "") -> Permission:
        params: dict[str, Any] = {"sendNotificationEmail": "true"}
        if message:
            params["emailMessage"] = message
        return self.post(
            PERMISSIONS.format(id=file_id),
            operation="share",
            model=Permission,
            params=params,
            json={"type": "user", "role": role, "emailAddress": email},
            idempotent=True,
        )  # sharing twice with the same person leaves one permission

    def send_document(self, *, document_id: str, subject: str = "", message: str = "") -> Document:
        file = self.get_file(document_id, operation="send_document")
        if file.appProperties.get("st_status") == "sent":
            return _document(file)
        recipients = json.loads(file.description or "{}").get("recipients", [])
        for recipient in recipients:
            self.share(document_id, email=recipient["email"], message=message or subject)
        updated = self.request_json(
            "PATCH",
            FILE.format(id=document_id),
            operation="send_document",
            model=DriveFile,
            params={"fields": FILE_FIELDS},
            json={"appProperties": {"st_status": "sent"}},
        )
        return _document(updated)

    def get_status(self, document_id: str) -> Document:
        return _document(self.get_file(document_id))

    def create_folder(self, *, name: str, parent_id: str = "") -> DriveFile:
        body: dict[str, Any] = {"name": name, "mimeType": FOLDER, **({"parents": [parent_id]} if parent_id else {})}
        return self.post(FILES, operation="create_folder", model=DriveFile, params={"fields": FILE_FIELDS}, json=body)

    def ping(self) -> str:
        about = self.get(ABOUT, operation="health_check", model=About, params={"fields": "user"}, attempts=1)
        return f"drive of {about.user.emailAddress}"
