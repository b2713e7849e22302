from django.apps import AppConfig

from integrations.approvals.hooks import approval_decided
from integrations.deliveries.hooks import deliveries_succeeded, delivery_finished
from integrations.events.hooks import event_stored
from integrations.flows.hooks import settings_changed, status_changed, version_published


class RunsConfig(AppConfig):
    name = "integrations.runs"
    label = "runs"

    def ready(self) -> None:
        """The runtime listens to the apps below it (their hooks.py): a stored event starts
        runs, a finished delivery or a decided approval resumes the run that waits for it,
        and a flow change drops the cached live version the invoke path keeps."""
        # Handlers that read models are imported once the app registry is ready.
        from integrations.runs import invoke, resume, services

        event_stored.connect(services.start_runs_for_event)
        delivery_finished.connect(resume.on_delivery_finished)
        deliveries_succeeded.connect(resume.on_deliveries_succeeded)
        approval_decided.connect(resume.on_approval_decided)
        for hook in (version_published, status_changed, settings_changed):
            hook.connect(invoke.forget_on_commit)
