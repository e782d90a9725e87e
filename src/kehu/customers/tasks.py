from huey.contrib.djhuey import db_task

from kehu.customers import transfer


@db_task()
def import_job_run(job_id: int) -> None:
    transfer.job_run(job_id)
