from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PublicConfig(AppConfig):
    """The published tracker: pages, feeds and embeds anyone may read, without a login."""

    name = "publicsite"
    verbose_name = pgettext_lazy("application", "Public site")

    def ready(self) -> None:
        """Empty the public cache on every change to the domain (see :mod:`publicsite.cache`)."""
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from commitments.services import hooks

        from .cache import changed, hook_changed

        post_save.connect(changed, dispatch_uid="public-cache-post-save")
        post_delete.connect(changed, dispatch_uid="public-cache-post-delete")
        m2m_changed.connect(changed, dispatch_uid="public-cache-m2m-changed")
        # Set-based writes (QuerySet.update) send no signal: the domain's hooks report them.
        hooks.register(hook_changed)
        hooks.register_changes(hook_changed)
        hooks.register_flags(hook_changed)
        hooks.register_revisions(hook_changed)
