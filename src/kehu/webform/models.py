from django.db import models


class SubmissionWindow(models.Model):
    """When one client address last submitted the public form: the rate limit, in the
    database so that every server process counts the same submissions."""

    client = models.CharField(max_length=64, unique=True)
    # ISO instants of the submissions still inside the window, oldest first.
    times = models.JSONField(default=list)
    updated_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.client
