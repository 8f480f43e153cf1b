"""Count the distinct raters of every scan already reviewed (qc_raters was added with 0 everywhere)."""

from django.db import migrations
from django.db.models import Count


def backfill(apps, schema_editor):
    Scan = apps.get_model("subjects", "Scan")
    QCDecision = apps.get_model("qc", "QCDecision")
    counts = QCDecision.objects.order_by().values("scan_id").annotate(n=Count("rater", distinct=True))
    for row in counts.iterator():
        Scan.objects.filter(pk=row["scan_id"]).update(qc_raters=row["n"])


class Migration(migrations.Migration):
    dependencies = [("subjects", "0004_qc_queue_order"), ("qc", "0003_locks_and_deferrals")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
