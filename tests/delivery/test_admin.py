"""The delivery admin: every page renders, changelists have no N+1, actions and forms call services."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models import Model
from django.test import Client as HttpClient

from delivery.models import Deliverable, OnboardingTask, QAReview, SurveyResponse
from delivery.services.onboarding import start_onboarding
from tests.factories.delivery import DeliverableFactory
from tests.factories.sales import ClientFactory
from tests.sales.admin_checks import (
    admin_url,
    check_changelist_queries_do_not_grow,
    check_pages_render,
    management_data,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

MODELS = list(apps.get_app_config("delivery").get_models())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_render(staff_client: HttpClient, model: type[Model]) -> None:
    check_pages_render(staff_client, model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_rows(staff_client: HttpClient, model: type[Model]) -> None:
    with_two, with_twenty = check_changelist_queries_do_not_grow(staff_client, model)

    assert with_two == with_twenty


def test_completing_tasks_from_the_admin_completes_the_onboarding(staff_client: HttpClient) -> None:
    onboarding = start_onboarding(client=ClientFactory.create(status="onboarding"), items=["a", "b"])
    ids = list(onboarding.tasks.values_list("pk", flat=True))

    staff_client.post(admin_url(OnboardingTask, "changelist"), {"action": "complete", "_selected_action": ids})

    onboarding.refresh_from_db()
    assert onboarding.status == "completed"
    assert onboarding.client.status == "active"


def test_a_qa_review_added_in_the_admin_moves_the_deliverable(staff_client: HttpClient) -> None:
    deliverable = DeliverableFactory.create(status=Deliverable.Status.READY)
    page = staff_client.get(admin_url(QAReview, "add"))

    response = staff_client.post(
        admin_url(QAReview, "add"),
        {
            **management_data(page),
            "deliverable": str(deliverable.pk),
            "verdict": "fail",
            "findings": "[]",
            "reviewer": "ops",
        },
    )

    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.status == Deliverable.Status.REJECTED
    assert QAReview.objects.get().reviewer == "ops"


def test_an_nps_above_ten_is_explained_by_the_form(staff_client: HttpClient) -> None:
    page = staff_client.get(admin_url(SurveyResponse, "add"))

    response = staff_client.post(
        admin_url(SurveyResponse, "add"),
        {
            **management_data(page),
            "client": str(ClientFactory.create().pk),
            "kind": "nps",
            "score": "11",
            "answers": "{}",
        },
    )

    assert "A NPS score is between 0 and 10." in response.content.decode()
    assert not SurveyResponse.objects.exists()
