"""The accesses a client gives us, and the exit survey's records: asked, granted, revoked, answered."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from delivery.models import ClientAccess, SurveyResponse
from delivery.services.accesses import grant_access, request_access, revoke_access, withdraw_access_request
from delivery.services.offboarding import exit_survey_of, open_exit_survey, record_exit_answers
from tests.factories.delivery import ClientAccessFactory, OffboardingFactory
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_an_access_is_asked_for_once_while_live_and_again_after_it_was_revoked() -> None:
    client = ClientFactory.create()
    first = request_access(client=client, system="HubSpot", kind="user_account")

    assert request_access(client=client, system="HubSpot", kind="user_account") == first
    grant_access(access=first)
    revoke_access(access=first, by="ops", revocation="manual")
    again = request_access(client=client, system="HubSpot", kind="user_account")

    assert again != first and again.status == "requested"
    assert ClientAccess.objects.filter(client=client).count() == 2


def test_granting_and_revoking_keep_their_first_times_and_name_who() -> None:
    access = request_access(client=ClientFactory.create(), system="Slack", kind="guest")
    granted = grant_access(access=access)
    first_time = granted.granted_at

    assert grant_access(access=access).granted_at == first_time
    with pytest.raises(ValidationError):
        revoke_access(access=access, by=" ", revocation="manual")
    revoked = revoke_access(access=access, by="access_revocation", revocation="provider")
    assert revoked.status == "revoked" and revoked.revoked_by == "access_revocation"
    assert revoke_access(access=access, by="someone else", revocation="manual").revoked_by == "access_revocation"


def test_a_request_never_granted_is_withdrawn_not_revoked() -> None:
    access = request_access(client=ClientFactory.create(), system="Notion", kind="guest")

    withdrawn = withdraw_access_request(access=access, note="client left")

    assert withdrawn.status == "withdrawn" and "client left" in withdrawn.note
    with pytest.raises(ValidationError):
        grant_access(access=withdrawn)


def test_the_database_refuses_a_revoked_access_without_who() -> None:
    with pytest.raises(IntegrityError):
        ClientAccessFactory.create(status="revoked", revoked_at=None, revoked_by="")


def test_one_exit_survey_per_offboarding_and_scores_only_on_its_scale() -> None:
    offboarding = OffboardingFactory.create()
    survey = open_exit_survey(offboarding=offboarding, questions=["How likely, 0 to 10?", " "])

    assert open_exit_survey(offboarding=offboarding, questions=["Other?"]) == survey
    assert exit_survey_of(offboarding=offboarding) == survey
    assert survey.answers == {"offboarding_id": offboarding.pk, "questions": ["How likely, 0 to 10?"]}
    with pytest.raises(ValidationError):
        record_exit_answers(survey=survey, score=11, answers={}, analysis="")
    answered = record_exit_answers(survey=survey, score=7, answers={"raw": "7"}, analysis="passive")
    assert answered.score == 7 and answered.answers["questions"] and answered.responded_at is not None
    nps = SurveyResponse.objects.create(client=offboarding.client, kind="nps", score=5)
    with pytest.raises(ValidationError):
        record_exit_answers(survey=nps, score=5, answers={}, analysis="")
