"""Staff groups of the operations console and what each may do.

- operator: runs the day: sees everything, works leads, campaigns, meetings, proposals, delivery,
  decides escalations, approves learned rules, replays webhooks, runs any agent from the console.
  Deletes nothing.
- manager: an operator who also deletes domain records, sets budgets and edits schedules.
- admin: every permission, users and groups included.
Applied idempotently after every migrate (and by `manage.py setup_groups`): a permission added
by a new model reaches the groups on the next deploy, and nothing an admin granted by hand is removed.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

DOMAIN_APPS = ("crm", "sales", "delivery")
OPERATOR_CHANGE_MODELS = {
    ("agents", "escalation"),
    ("agents", "agentrun"),
    ("learning", "knowledgerule"),
    ("learning", "faq"),
    ("learning", "responsetracking"),
    ("learning", "errorlog"),
    ("integrations", "webhookevent"),
}
MANAGER_EXTRA = {
    ("agents", "budget"),
    ("django_celery_beat", "periodictask"),
    ("django_celery_beat", "crontabschedule"),
    ("django_celery_beat", "intervalschedule"),
}
PROJECT_APPS = (*DOMAIN_APPS, "agents", "learning", "integrations", "django_celery_beat")
# Custom permissions (a model's Meta.permissions) every staff group gets: operators start agents by hand.
OPERATOR_CUSTOM = {("agents", "run_agent")}


def _grants(group: str, app: str, model: str, codename: str) -> bool:
    """Whether ``group`` gets the permission ``codename`` (view/add/change/delete_<model>, or a custom
    one) on ``app.model``."""
    if group == "admin":
        return True
    if app not in PROJECT_APPS:
        return False
    action = codename.split("_", 1)[0]
    if action not in {"view", "add", "change", "delete"}:
        return (app, codename) in OPERATOR_CUSTOM
    writes = action in {"add", "change"}
    operator = action == "view" or (writes and (app in DOMAIN_APPS or (app, model) in OPERATOR_CHANGE_MODELS))
    if group == "operator":
        return operator
    manager_only = (app in DOMAIN_APPS and action == "delete") or ((app, model) in MANAGER_EXTRA and action != "view")
    return operator or manager_only


def _codenames_for(group: str) -> set[tuple[str, str]]:
    return {
        (perm.content_type.app_label, perm.codename)
        for perm in Permission.objects.select_related("content_type")
        if _grants(group, perm.content_type.app_label, perm.content_type.model, perm.codename)
    }


def ensure_staff_groups() -> dict[str, int]:
    """Create the groups and grant their permissions; returns permissions granted per group."""
    by_key = {(p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")}
    granted: dict[str, int] = {}
    for name in ("operator", "manager", "admin"):
        group, _ = Group.objects.get_or_create(name=name)
        perms = [by_key[k] for k in _codenames_for(name) if k in by_key]
        group.permissions.add(*perms)
        granted[name] = len(perms)
    return granted
