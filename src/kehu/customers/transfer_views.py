import io
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers import transfer
from kehu.customers.models import ImportJob
from kehu.customers.tasks import import_job_run
from kehu.users.permissions import require
from kehu.users.roles import Capability


class ImportForm(forms.Form):
    what = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[("customers", _("Customers")), ("contacts", _("Contacts of organisations"))],
    )
    file = forms.FileField(label=_("CSV or Excel file"))
    encoding = forms.ChoiceField(
        label=_("Text encoding (CSV)"), required=False,
        choices=[("", _("Detect (UTF-8 or GBK/GB18030)")), ("utf-8-sig", "UTF-8"),
                 ("gb18030", "GBK / GB18030")],
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and skip the invalid ones"), required=False,
        help_text=_("Without this, one invalid row means nothing is imported."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            raise forms.ValidationError(_("Only CSV and Excel (.xlsx) files can be imported."))
        return upload


@require(Capability.CUSTOMER_IMPORT)
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        folder = settings.DATA_DIR / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with stored.open("wb") as out:
            for piece in upload.chunks():
                out.write(piece)
        job = ImportJob.objects.create(
            created_by=request.user, what=form.cleaned_data["what"], file_name=upload.name[:255],
            stored_path=str(stored), skip_invalid=form.cleaned_data["skip_invalid"],
            encoding=form.cleaned_data["encoding"], language=request.LANGUAGE_CODE,
        )
        import_job_run(job.pk)
        return redirect("customers:import_job", job_id=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).order_by("-id")[:10]
    return render(request, "customers/import.html", {"form": form, "jobs": jobs})


@require(Capability.CUSTOMER_IMPORT)
def import_job(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id, created_by=request.user)
    done, total = transfer.job_progress(job)
    context = {"job": job, "done": done, "total": total,
               "percent": int(100 * done / total) if total else 0}
    if request.headers.get("HX-Request"):
        return render(request, "customers/partials/import_progress.html", context)
    return render(request, "customers/import_job.html", context)


@require(Capability.CUSTOMER_EXPORT)
def export(request):
    what = "contacts" if request.GET.get("what") == "contacts" else "customers"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        transfer.export_xlsx(buffer, what=what)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="kehu-{what}-{stamp}.xlsx"'
        return response
    encoding = "gb18030" if request.GET.get("encoding") == "gb18030" else "utf-8-sig"
    buffer = io.BytesIO()
    transfer.export_csv(buffer, what=what, encoding=encoding)
    response = HttpResponse(buffer.getvalue(), content_type=f"text/csv; charset={encoding}")
    response["Content-Disposition"] = f'attachment; filename="kehu-{what}-{stamp}.csv"'
    return response
