"""A user's language follows them from the language switcher to their e-mails."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Profile
from accounts.services import user_language, user_set_language

pytestmark = pytest.mark.django_db


def test_switching_language_while_logged_in_remembers_it(client, viewer):
    client.force_login(viewer)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"
    assert user_language(user=viewer) == "fr"


def test_switching_language_anonymously_sets_only_the_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.cookies["django_language"].value == "fr"
    assert not Profile.objects.exists()


def test_a_user_who_never_chose_reads_the_site_default(viewer):
    assert user_language(user=viewer) == "en"
    assert user_language(user=None) == "en"


def test_an_unknown_language_is_refused_and_nothing_is_written(viewer):
    with pytest.raises(ValidationError) as exc:
        user_set_language(user=viewer, language="de")
    assert "language" in exc.value.message_dict
    assert not Profile.objects.exists()
