"""Shared bits of the learning console: the note on the action bar, short texts, the acting user."""

from __future__ import annotations

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

RECENT = 20


class NoteActionForm(ActionForm):
    """The action bar with a note: feedback and resolutions carry the operator's words."""

    note = forms.CharField(required=False, label="Note", widget=forms.TextInput(attrs={"size": 40}))


def note_of(request: HttpRequest) -> str:
    return str(request.POST.get("note", "")).strip()


def user_of(request: HttpRequest) -> AbstractBaseUser | None:
    user = request.user
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


def short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else f"{text[: n - 1]}…"
