"""The calendar feeds a user manages through the API."""

from __future__ import annotations

from rest_framework import serializers

from commitments.models import Agreement, Party
from feeds.models import CalendarFeed
from feeds.selectors import feed_url


class CalendarFeedSerializer(serializers.ModelSerializer):
    """A feed as its owner sees it; the secret URL appears only when it is new."""

    agreement = serializers.PrimaryKeyRelatedField(
        queryset=Agreement.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the agreement, for an agreement feed.",
    )
    party = serializers.PrimaryKeyRelatedField(
        queryset=Party.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the party, for a party feed.",
    )
    subscribe_url = serializers.SerializerMethodField(
        help_text="The URL to paste into a calendar app. Only in the answer that made or "
        "rotated the secret: copy it then, it cannot be shown again."
    )

    class Meta:
        model = CalendarFeed
        fields = [
            "id",
            "name",
            "scope",
            "agreement",
            "party",
            "secret_hint",
            "created",
            "rotated_at",
            "revoked_at",
            "subscribe_url",
        ]
        read_only_fields = ["secret_hint", "created", "rotated_at", "revoked_at"]

    def get_subscribe_url(self, feed: CalendarFeed) -> str | None:
        secret = self.context.get("secret")
        if secret is None:
            return None
        return feed_url(request=self.context["request"], secret=secret)
