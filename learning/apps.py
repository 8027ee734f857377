from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from learning.models import KnowledgeRule
        from learning.services import rule_cache

        # Cache invalidation only (no business logic): workers cache active rules per process.
        post_save.connect(rule_cache.on_rule_saved, sender=KnowledgeRule, dispatch_uid="learning.rule_cache.save")
        post_delete.connect(rule_cache.on_rule_saved, sender=KnowledgeRule, dispatch_uid="learning.rule_cache.delete")
