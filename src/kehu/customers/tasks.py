from django.utils import translation
from huey.contrib.djhuey import db_task

from kehu.customers import transfer
from kehu.customers.models import ImportJob


@db_task()
def import_job_run(job_id: int) -> None:
    language = ImportJob.objects.values_list("language", flat=True).get(pk=job_id)
    with translation.override(language):
        transfer.job_run(job_id)
