from django.apps import AppConfig


class PublicConfig(AppConfig):
    """The published tracker: pages, feeds and embeds anyone may read, without a login."""

    name = "public"
    verbose_name = "Public site"
