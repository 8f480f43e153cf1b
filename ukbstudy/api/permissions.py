"""Who may call what: the study's roles (``ukbstudy.accounts.roles``) applied to the API.

Reading needs the model's ``view_*`` permission (viewers and up), recording a QC decision
``qc.add_qcdecision`` (raters and up), and importing a QC spreadsheet the admin role.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission, DjangoModelPermissions

from ukbstudy.accounts.roles import role_of

VIEW = ["%(app_label)s.view_%(model_name)s"]


class RolePermissions(DjangoModelPermissions):
    """Django model permissions for every method, reads included (DjangoModelPermissions lets any
    authenticated user read). A view names the model an action acts on in ``permission_models``
    (action -> model), e.g. recording a decision through a scan acts on QC decisions."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": VIEW, "HEAD": VIEW, "OPTIONS": VIEW}

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        model = getattr(view, "permission_models", {}).get(getattr(view, "action", None))
        if model is None:
            model = view.get_queryset().model
        return request.user.has_perms(self.get_required_permissions(request.method, model))


class IsAdminRole(BasePermission):
    """Only the admin role (and superusers)."""

    message = "Only an admin may do this."

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) == "admin"
