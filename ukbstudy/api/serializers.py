"""What the API shows and accepts. Output serializers only shape rows; inputs are validated here and
handed to the services (``ukbstudy.qc.services``, ``ukbstudy.qc.importing``, ``ukbstudy.measurements.importing``),
which own the rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement, Quantity
from ukbstudy.measurements.selectors.frames import UnknownColumn, frame_column
from ukbstudy.qc.models import CONFIDENCE_RANGE, SECONDS_SPENT_CAP, QCDecision, Reason, Verdict
from ukbstudy.subjects.models import Subject, Visit


class VisitAttributes(serializers.ModelSerializer):
    """What UK Biobank measured at a visit (fields 53, 21003, 50, 21001, 54 of the visit's instance)."""

    height = serializers.FloatField(source="height_cm", read_only=True, allow_null=True,
                                    help_text="Standing height, cm (field 50).")

    class Meta:
        model = Visit
        fields = ["instance", "date", "age", "height", "bmi", "centre"]
        read_only_fields = fields


class VisitSerializer(VisitAttributes):
    eid = serializers.IntegerField(source="subject.eid", read_only=True)
    scans = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                               help_text="Ids of the visit's scans (see /api/scans/).")

    class Meta(VisitAttributes.Meta):
        fields = ["id", "eid", *VisitAttributes.Meta.fields, "scans", "created_at", "updated_at"]
        read_only_fields = fields


class SubjectSerializer(serializers.ModelSerializer):
    visits = VisitAttributes(many=True, read_only=True, help_text="The participant's imaging visits.")

    class Meta:
        model = Subject
        fields = ["eid", "sex", "visits", "created_at", "updated_at"]


class HintSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["high", "medium", "low"])
    message = serializers.CharField()
    station = serializers.IntegerField(allow_null=True, required=False)


class DeviationsSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    codes = serializers.ListField(child=serializers.CharField(), help_text="Distinct deviation codes, sorted.")


class ScanSerializer(serializers.ModelSerializer):
    eid = serializers.IntegerField(source="subject.eid", read_only=True)
    qc_status = serializers.ChoiceField(choices=Verdict.choices, allow_null=True, read_only=True,
                                        help_text="Newest verdict; null when not reviewed yet.")
    hints = HintSerializer(source="qc_hints", many=True, read_only=True,
                           help_text="Automatic QC hints, most severe first.")
    deviations = serializers.SerializerMethodField()

    class Meta:
        model = Scan
        fields = ["id", "eid", "visit", "field_id", "instance", "array_index", "archive_name", "study_date", "n_series",
                  "n_files", "processing_state", "processed_at", "hint_rank", "hints", "deviations", "qc_status",
                  "created_at"]

    @extend_schema_field(DeviationsSummarySerializer)
    def get_deviations(self, scan: Scan) -> dict:
        return {"count": scan.n_deviations, "codes": sorted({d.get("code", "") for d in scan.deviations})}


class QCDecisionSerializer(serializers.ModelSerializer):
    eid = serializers.IntegerField(source="scan.subject.eid", read_only=True)
    rater = serializers.CharField(source="rater.username", read_only=True)
    # Declared because DRF leaves "may be blank" out of read-only choice fields, and so would the schema.
    reason = serializers.ChoiceField(choices=Reason.choices, allow_blank=True, read_only=True)
    previous_verdict = serializers.ChoiceField(choices=Verdict.choices, allow_blank=True, read_only=True,
                                               help_text="The scan's status before this decision; blank if none.")

    class Meta:
        model = QCDecision
        fields = ["id", "scan", "eid", "rater", "decided_at", "verdict", "reason", "note", "previous_verdict",
                  "confidence", "seconds_spent"]
        read_only_fields = fields


class QCRecordSerializer(serializers.Serializer):
    """A decision on the scan named in the URL."""

    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.ChoiceField(choices=Reason.choices, required=False, default="",
                                     help_text="Required for a fail, and for a change of verdict unless a note "
                                               "says why.")
    note = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False,
                                 max_length=10_000)
    confidence = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=CONFIDENCE_RANGE[0],
                                          max_value=CONFIDENCE_RANGE[1],
                                          help_text="Optional: the rater's confidence, 1 (unsure) to 5 (certain).")
    seconds_spent = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0,
                                           help_text="Optional: seconds the rater took to decide (capped at "
                                                     f"{SECONDS_SPENT_CAP:g}).")


class QCDecisionCreateSerializer(QCRecordSerializer):
    """A decision on any scan."""

    scan = serializers.PrimaryKeyRelatedField(queryset=Scan.objects.all())


class ScanLockedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    locked_by = serializers.CharField(help_text="Username of the rater who holds the scan.")
    expires_at = serializers.DateTimeField()


class QCImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with columns eid,instance,verdict,reason,note,rater,decided_at "
                                           "(confidence and seconds_spent optional).")


class QCImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Rows already recorded (the file was imported before).")
    withdrawn_skipped = serializers.IntegerField()
    imported_by = serializers.CharField()


class MeasurementSerializer(serializers.ModelSerializer):
    eid = serializers.IntegerField(source="subject.eid", read_only=True)
    instance = serializers.IntegerField(source="scan.instance", read_only=True,
                                        help_text="The scan's visit: 2 first imaging visit, 3 repeat.")
    model_version_name = serializers.CharField(read_only=True, allow_null=True,
                                               help_text='The model version as "name@version"; null without one.')

    class Meta:
        model = Measurement
        fields = ["id", "eid", "instance", "scan", "quantity", "method", "value", "unit", "model_version",
                  "model_version_name", "job", "details", "created_at"]
        read_only_fields = fields


class MeasurementImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with columns eid,instance,quantity,method,value (unit optional, %); "
                                           "method is the lab's label, e.g. imported.")


class MeasurementImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Stored values the file changed.")
    unchanged = serializers.IntegerField(help_text="Values already stored as the file gives them.")
    withdrawn_skipped = serializers.IntegerField()
    batch_id = serializers.IntegerField(allow_null=True, help_text="The import batch; null when nothing was written.")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as 'Authorization: Token <token>'.")


class ChangeQuerySerializer(serializers.Serializer):
    """Which quantity and column the change between the imaging visits is read for."""

    quantity = serializers.ChoiceField(choices=Quantity.choices, default=Quantity.LIVER_FF)
    column = serializers.CharField(default="network", max_length=64,
                                   help_text="A method (network, segmentation, an imported label, ...) or reference.")

    def validate_column(self, value: str) -> str:
        try:
            column = frame_column(value)
        except UnknownColumn as exc:
            raise serializers.ValidationError(str(exc)) from None
        if column.kind not in ("method", "reference") or "@" in value:
            raise serializers.ValidationError("the change is read for a method or the reference, at both visits")
        return value


class ChangePairSerializer(serializers.Serializer):
    eid = serializers.IntegerField()
    scan_2 = serializers.IntegerField(help_text="The first imaging visit's scan.")
    scan_3 = serializers.IntegerField(help_text="The repeat imaging visit's scan.")
    first = serializers.FloatField(allow_null=True)
    second = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="second - first (percentage points).")
    days = serializers.FloatField(allow_null=True, help_text="Days between the visits.")


class ChangesSerializer(serializers.Serializer):
    quantity = serializers.CharField()
    column = serializers.CharField()
    change = serializers.DictField(help_text="Paired change: n, mean_change, ci_low, ci_high, p, wilcoxon_p, ... "
                                             "(analysis.longitudinal.PairedChange; null where not computable).")
    repeatability = serializers.DictField(help_text="rc, within_sd, wcv, icc_a1, icc_c1, bias, loa_lower, loa_upper, "
                                                    "... (analysis.longitudinal.Repeatability).")
    pairs = ChangePairSerializer(many=True, help_text="Participants with a QC-passed scan at both visits.")
