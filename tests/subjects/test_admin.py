"""The admin lists everything, withdrawn participants included, and changes nothing imported."""

import pytest

from tests.factories import make_scan
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456789"))
    return client


def test_withdrawn_participants_scans_stay_reachable_in_the_admin(admin_client_):
    scan = make_scan()
    subjects_withdraw(eids=[scan.subject.eid])
    assert admin_client_.get(f"/admin/imaging/scan/{scan.pk}/change/").status_code == 200
    listing = admin_client_.get("/admin/imaging/scan/?subject__withdrawn__exact=1").content.decode()
    assert str(scan) in listing


def test_the_withdraw_action_hides_a_participant(admin_client_):
    scan = make_scan()
    form = {"action": "withdraw", "_selected_action": [scan.subject.pk]}
    response = admin_client_.post("/admin/subjects/subject/", form)
    assert response.status_code == 302
    scan.subject.refresh_from_db()
    assert scan.subject.withdrawn


def test_imported_rows_cannot_be_edited_in_the_admin(admin_client_):
    scan = make_scan()
    page = admin_client_.get(f"/admin/imaging/scan/{scan.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert admin_client_.post(f"/admin/imaging/scan/{scan.pk}/delete/", {"post": "yes"}).status_code == 403
