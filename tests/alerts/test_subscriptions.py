"""Subscriptions: the service's validation, and people managing their own in the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alerts.models import Subscription, SubscriptionLead, SubscriptionScope
from alerts.services.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_update,
)
from tests.factories import user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(db):
    return user_make(username="analyst", is_staff=True)


def leads_of(subscription: Subscription) -> list[int]:
    return list(subscription.leads.values_list("days", flat=True))


def assert_rejected(field: str, **kwargs) -> ValidationError:
    """Assert the service refuses with an error on ``field`` and writes nothing."""
    with pytest.raises(ValidationError) as exc:
        subscription_create(**kwargs)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert not Subscription.objects.exists()
    assert not SubscriptionLead.objects.exists()
    return exc.value


def test_defaults_are_30_7_1_days_and_the_day_after(analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    assert leads_of(subscription) == [30, 7, 1, 0]
    assert subscription.mode == "immediate"


def test_own_lead_times_without_the_overdue_notice(analyst, agreement):
    subscription = subscription_create(
        user=analyst, scope=SubscriptionScope.AGREEMENT, agreement=agreement,
        lead_days=[14, 2], notify_overdue=False, mode="digest",
    )
    assert leads_of(subscription) == [14, 2]
    assert (subscription.agreement, subscription.mode) == (agreement, "digest")


@pytest.mark.parametrize("lead_days", [[0], [7, -1], [30, 7, 7], [4000], ["7"]])
def test_bad_lead_times_are_refused(analyst, lead_days):
    """Zero, negative, repeated, too large or non-numeric leads: error on lead_days."""
    error = assert_rejected("lead_days", user=analyst, scope=SubscriptionScope.ALL,
                            lead_days=lead_days)
    if lead_days == [0]:
        assert "the notice the day after" in str(error.message_dict["lead_days"])


def test_no_lead_time_at_all_is_refused(analyst):
    assert_rejected("lead_days", user=analyst, scope=SubscriptionScope.ALL, lead_days=[],
                    notify_overdue=False)


def test_missing_target_is_refused_naming_the_field(analyst):
    assert_rejected("agreement", user=analyst, scope=SubscriptionScope.AGREEMENT,
                    agreement=999_999)
    assert_rejected("party", user=analyst, scope=SubscriptionScope.PARTY, party=999_999)
    assert_rejected("commitment", user=analyst, scope=SubscriptionScope.COMMITMENT,
                    commitment=999_999)


def test_deleted_target_is_refused(analyst, make_commitment):
    commitment = make_commitment()
    commitment.delete()
    assert_rejected("commitment", user=analyst, scope=SubscriptionScope.COMMITMENT,
                    commitment=commitment)


def test_scope_without_its_target_is_refused(analyst, japan):
    assert_rejected("party", user=analyst, scope=SubscriptionScope.PARTY)
    assert_rejected("party", user=analyst, scope=SubscriptionScope.ALL, party=japan)


@pytest.mark.parametrize("address", ["not-an-address", "a@b@c.org", ""])
def test_recipient_address_that_does_not_parse_is_refused(django_user_model, address):
    user = django_user_model.objects.create_user(username="someone", email=address)
    assert_rejected("email", user=user, scope=SubscriptionScope.ALL)


def test_duplicate_subscription_is_refused(analyst, japan):
    subscription_create(user=analyst, scope=SubscriptionScope.PARTY, party=japan)
    with pytest.raises(ValidationError) as exc:
        subscription_create(user=analyst, scope=SubscriptionScope.PARTY, party=japan.pk,
                            lead_days=[3])
    assert "party" in exc.value.message_dict
    assert Subscription.objects.count() == 1
    assert SubscriptionLead.objects.count() == 4


def test_update_changes_leads_and_mode_and_keeps_the_rest(analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    subscription_update(subscription=subscription, lead_days=[10])
    assert leads_of(subscription) == [10, 0]
    subscription_update(subscription=subscription, notify_overdue=False, mode="digest")
    subscription.refresh_from_db()
    assert (leads_of(subscription), subscription.mode) == ([10], "digest")


def test_bad_update_writes_nothing(analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    with pytest.raises(ValidationError) as exc:
        subscription_update(subscription=subscription, lead_days=[-3], mode="digest")
    assert "lead_days" in exc.value.message_dict
    subscription.refresh_from_db()
    assert (leads_of(subscription), subscription.mode) == ([30, 7, 1, 0], "immediate")


def test_delete_removes_the_subscription_and_its_leads(analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    subscription_delete(subscription=subscription)
    assert not Subscription.objects.exists()
    assert not SubscriptionLead.objects.exists()


# Admin -------------------------------------------------------------------------------------


def admin_post_data(**fields) -> dict:
    data = {
        "scope": "all",
        "mode": "immediate",
        "lead_days": "7",
        "notify_overdue": "on",
    }
    data.update(fields)
    return data


def test_staff_user_adds_own_subscription_in_the_admin(client, analyst):
    client.force_login(analyst)
    response = client.post(reverse("admin:alerts_subscription_add"), admin_post_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get()
    assert subscription.user == analyst
    assert leads_of(subscription) == [7, 0]


def test_the_admin_saves_lead_times_as_the_service_normalises_them(client, analyst):
    """The admin's lead inline stored rows as typed; it now saves through the service."""
    client.force_login(analyst)
    response = client.post(
        reverse("admin:alerts_subscription_add"),
        admin_post_data(lead_days="1, 30, 7", notify_overdue=""),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert leads_of(Subscription.objects.get()) == [30, 7, 1]


@pytest.mark.parametrize(
    ("lead_days", "reason"),
    [
        ("7, 7", "Each lead time once"),
        ("4000", "more than the 3650"),
        ("0", "the notice the day after"),
        ("weekly", "whole numbers"),
        ("7, ²", "whole numbers"),
    ],
)
def test_the_admin_refuses_lead_times_the_service_refuses(client, analyst, lead_days, reason):
    client.force_login(analyst)
    response = client.post(
        reverse("admin:alerts_subscription_add"), admin_post_data(lead_days=lead_days)
    )
    assert response.status_code == 200
    assert reason in str(response.context["adminform"].form.errors["lead_days"])
    assert not Subscription.objects.exists()
    assert not SubscriptionLead.objects.exists()


def test_the_admin_changes_leads_and_mode_through_the_service(client, analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    client.force_login(analyst)
    url = reverse("admin:alerts_subscription_change", args=[subscription.pk])
    assert client.get(url).context["adminform"].form["lead_days"].value() == "30, 7, 1"

    response = client.post(url, {"mode": "digest", "lead_days": "10, 40", "notify_overdue": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    subscription.refresh_from_db()
    assert (leads_of(subscription), subscription.mode) == ([40, 10], "digest")


def test_the_admin_cannot_change_what_a_subscription_watches(client, analyst, agreement):
    """The API refused a new target while the admin saved it; now neither changes it."""
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    client.force_login(analyst)
    url = reverse("admin:alerts_subscription_change", args=[subscription.pk])

    response = client.post(
        url, admin_post_data(scope="agreement", agreement=str(agreement.pk), lead_days="7")
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.scope, subscription.agreement_id) == ("all", None)
    assert leads_of(subscription) == [7, 0]


def test_the_service_refuses_a_new_target_and_accepts_the_same_one(analyst, agreement, japan):
    subscription = subscription_create(
        user=analyst, scope=SubscriptionScope.AGREEMENT, agreement=agreement
    )
    with pytest.raises(ValidationError) as exc:
        subscription_update(
            subscription=subscription, target={"scope": "party", "party": japan}, mode="digest"
        )
    assert set(exc.value.message_dict) == {"scope", "party"}
    subscription.refresh_from_db()
    assert (subscription.scope, subscription.party_id, subscription.mode) == (
        "agreement", None, "immediate"
    )

    subscription_update(
        subscription=subscription,
        target={"scope": "agreement", "agreement": agreement.pk, "party": None},
        mode="digest",
    )
    subscription.refresh_from_db()
    assert subscription.mode == "digest"


def test_the_admin_deletes_through_the_service(client, analyst):
    subscription = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    client.force_login(analyst)
    response = client.post(
        reverse("admin:alerts_subscription_delete", args=[subscription.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Subscription.objects.exists()
    assert not SubscriptionLead.objects.exists()


def test_admin_refuses_a_duplicate_with_a_form_error(client, analyst):
    subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    client.force_login(analyst)
    response = client.post(reverse("admin:alerts_subscription_add"), admin_post_data())
    assert response.status_code == 200
    assert "This subscription already exists" in response.content.decode()
    assert Subscription.objects.count() == 1


def test_admin_refuses_a_user_without_a_valid_address(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="noaddress", email="", password="pw-for-tests-only", is_staff=True
    )
    client.force_login(user)
    response = client.post(reverse("admin:alerts_subscription_add"), admin_post_data())
    assert response.status_code == 200
    assert "no e-mail address" in response.content.decode()
    assert not Subscription.objects.exists()


def test_staff_see_and_edit_only_their_own_subscriptions(client, analyst, django_user_model):
    other = django_user_model.objects.create_user(username="other", email="other@example.org")
    theirs = subscription_create(user=other, scope=SubscriptionScope.ALL)
    mine = subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    client.force_login(analyst)
    listing = client.get(reverse("admin:alerts_subscription_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == [mine]
    assert client.get(reverse("admin:alerts_subscription_change", args=[mine.pk])).status_code \
        == 200
    response = client.get(reverse("admin:alerts_subscription_change", args=[theirs.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    response = client.post(reverse("admin:alerts_subscription_delete", args=[theirs.pk]),
                           {"post": "yes"})
    assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_superuser_sees_everyones_subscriptions(admin_client, analyst, django_user_model):
    other = django_user_model.objects.create_user(username="other", email="other@example.org")
    subscription_create(user=other, scope=SubscriptionScope.ALL)
    subscription_create(user=analyst, scope=SubscriptionScope.ALL)
    listing = admin_client.get(reverse("admin:alerts_subscription_changelist"))
    assert listing.context["cl"].result_count == 2


@pytest.mark.parametrize("lead_days", ["7", "1.5"])
def test_admin_names_a_duplicate_once_in_words_for_whoever_subscribes(
    admin_client, analyst, agreement, lead_days
):
    """A superuser subscribing an analyst twice gets one plain error at the agreement field.

    Before, the form also ran the model's own checks beside the service: "Choose the agreement
    to watch." (an agreement was chosen) and the raw "Constraint … is violated.".
    """
    subscription_create(user=analyst, scope=SubscriptionScope.AGREEMENT, agreement=agreement)
    data = admin_post_data(
        scope="agreement", agreement=str(agreement.pk), user=str(analyst.pk), lead_days=lead_days
    )
    response = admin_client.post(reverse("admin:alerts_subscription_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    page = response.content.decode()
    assert "Constraint" not in page
    assert "Choose the agreement" not in page
    if lead_days == "7":
        assert errors == {"agreement": ["This subscription already exists; change it instead."]}
    else:
        assert list(errors) == ["lead_days"]
    assert Subscription.objects.count() == 1
