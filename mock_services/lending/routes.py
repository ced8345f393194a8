"""lending's route table: each endpoint, its handler and how it is admitted.

The endpoint names are the `endpoint` label of the response and latency
metrics (path parameters written `{id}`), which drill expectations name.
`write`: refused with MAINTENANCE during a window; `admitted=False`: never
refused by admission control; `admin`: skips the maintenance check.
"""

from __future__ import annotations

from mock_services.lending.admin import AdminHandlers
from mock_services.lending.admission import Admission
from mock_services.lending.loans import LoanHandlers
from mock_services.lending.repayments import RepaymentHandlers
from mock_services.web import Application


def add_routes(app: Application, admission: Admission, loans: LoanHandlers, repayments: RepaymentHandlers,
               admin: AdminHandlers) -> None:
    guard = admission.guard
    app.route("GET", "/v1/users/{user_id}/quota")(guard("GET /v1/users/{id}/quota", loans.quota))
    app.route("POST", "/v1/loans")(guard("POST /v1/loans", loans.apply, write=True))
    app.route("GET", "/v1/loans/{loan_id}")(guard("GET /v1/loans/{id}", loans.get_loan))
    app.route("POST", "/v1/loans/{loan_id}/repayments")(guard("POST /v1/loans/{id}/repayments", repayments.repay))
    app.route("GET", "/v1/status")(guard("GET /v1/status", admin.status, admitted=False))
    app.route("POST", "/v1/admin/maintenance")(guard("POST /v1/admin/maintenance", admin.schedule_maintenance, admin=True))
    app.route("DELETE", "/v1/admin/maintenance")(guard("DELETE /v1/admin/maintenance", admin.cancel_maintenance, admin=True))
    app.route("POST", "/v1/admin/reconcile")(guard("POST /v1/admin/reconcile", admin.reconcile_now, admin=True))
    app.route("GET", "/v1/audit")(guard("GET /v1/audit", admin.audit, admin=True))
