"""Every error the emulator answers with, in each product's own envelope.

    ApiError                      raised anywhere in a handler, rendered by the middleware
     ├─ crm_error(...)            CRM and Bigin: {"code", "details", "message", "status": "error"}
     ├─ analytics_error(...)      {"status": "failure", "summary",
     │                             "data": {"errorCode", "errorMessage"}}
     └─ creator_error(...)        {"code": <int>, "message"}

Messages and statuses come from the seeds' error lists where they have one; the rest are marked
[doc?] (Zoho's public pages, not confirmed against a live service) or [guess].
"""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, message). Seed 002/003 give the statuses and the description lines.
CRM_ERRORS: dict[str, tuple[int, str]] = {
    "INVALID_URL_PATTERN": (404, "Please check if the URL trying to access is a correct one"),
    "OAUTH_SCOPE_MISMATCH": (401, "Unauthorized"),
    "NO_PERMISSION": (403, "Permission denied to read"),
    "INTERNAL_ERROR": (500, "Internal Server Error"),
    "INVALID_REQUEST_METHOD": (400, "The http request method type is not a valid one"),
    "AUTHORIZATION_FAILED": (400, "User does not have sufficient privilege to read."),
    "RESOURCE_NOT_FOUND": (404, "The requested resource doesn't exist."),
    "MEDIA_TYPE_NOT_SUPPORTED": (415, "Media type is not supported."),
    # [doc?] below
    "INVALID_TOKEN": (401, "invalid oauth token"),
    "AUTHENTICATION_FAILURE": (401, "Authentication failed"),
    "INVALID_DATA": (400, "the given data is invalid"),
    "REQUIRED_PARAM_MISSING": (400, "One of the expected parameter is missing"),
    "TOO_MANY_REQUESTS": (429, "You have made too many requests. Please try again later."),
    "INVALID_MODULE": (400, "the module name given seems to be invalid"),
    "FILE_SIZE_EXCEEDED": (400, "The file size exceeds the limit"),
}

# errorCode -> (HTTP status, message). Codes from Zoho Analytics' "common error codes" pages
# [doc?]; 8535 is what the official client refreshes on [sdk]. Statuses are [guess] except 401.
ANALYTICS_ERRORS: dict[int, tuple[int, str]] = {
    7003: (400, "Required parameters are missing in the request."),
    7103: (404, "The workspace id mentioned in the API does not exist."),
    7138: (404, "The view id mentioned in the API URL does not exist."),
    7235: (
        400,
        "Not even a single column name provided in source file matches with the column "
        "data in table.",
    ),
    7507: (400, "Value entered in the mentioned column does not follow the specified data-type."),
    7301: (403, "You do not have the permission to do this operation."),
    7387: (400, "Workspaces does not belongs to current organization."),
    8083: (400, "Organization id is not present in the request header."),
    8504: (400, "The required parameter is not proper or has not been sent."),
    8518: (401, "Invalid authentication."),
    # SQL export (codes and reasons in sql.py's docstring, from the v2 error-code pages).
    7403: (400, "Parsing of SQL query failed."),
    7105: (400, "View name specified in the Workspace does not exist."),
    7395: (400, "Column not present in the workspace."),
    8516: (400, "Invalid value passed in the mentioned parameter."),
    8535: (401, "Invalid oauthtoken."),
    # Export CONFIG and format limits: the v2 async export pages' error table (all HTTP 400).
    7327: (400, "The criteria could not be converted into a query."),
    7330: (400, "A column used in the criteria does not exist in the view."),
    7331: (400, "The criteria could not be parsed."),
    7332: (400, "A table used in the criteria is not part of the view."),
    7333: (400, "Aggregate functions are not allowed in criteria."),
    7806: (400, "XLS export is limited to 65,536 rows."),
    7807: (400, "XLS export is limited to 256 columns."),
    7808: (400, "XLS export is limited to 32,767 characters in a cell."),
    7827: (400, "PDF export is limited to 1,000,000 cells."),
    8001: (400, "Invalid responseFormat."),
    8014: (400, "Image export is possible only for charts."),
    8015: (400, "A column given in selectedColumns is not present in the view."),
    8119: (400, "Invalid value for an attribute."),
    8547: (400, "selectedColumns must hold between 1 and 300 column names."),
    # [guess] no public code found for these two; chosen so they are distinguishable.
    8084: (400, "Maximum number of concurrent jobs exceeded for this organization."),
    8085: (400, "The file size exceeds the maximum limit of 100 MB."),
    # [guess] throttle and internal error codes.
    8510: (429, "Too many requests. Please try again later."),
    8500: (500, "Internal server error."),
}

# code -> (HTTP status, message). 1000/1030/1040 from Creator's v2.1 status-code page [doc?].
CREATOR_ERRORS: dict[int, tuple[int, str]] = {
    1000: (404, "Invalid API URL format."),
    1030: (
        401,
        "Authorization Failure. The access token is either invalid or has expired. "
        "Please check your Zoho Account for more information.",
    ),
    1040: (404, "There is no such user."),
    # [guess] below
    2892: (404, "No application found with the given link name."),
    2893: (404, "No report found with the given link name."),
    2894: (404, "No bulk read job found with the given id."),
    2945: (401, "Invalid OAuth scope."),
    2933: (403, "You do not have permission to access this report."),
    2955: (429, "You have reached the API call limit. Please try again later."),
    2899: (400, "The given input is invalid."),
    2970: (400, "The record cursor has expired."),
    1050: (500, "Internal error."),
}


class ApiError(Exception):
    """A ready reply: HTTP status, JSON body and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def crm_error(
    code: str,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    status: int | None = None,
) -> ApiError:
    known_status, known_message = CRM_ERRORS[code]
    return ApiError(
        status or known_status,
        {
            "code": code,
            "details": details or {},
            "message": message or known_message,
            "status": "error",
        },
    )


def analytics_error(
    code: int, message: str | None = None, status: int | None = None, summary: str | None = None
) -> ApiError:
    known_status, known_message = ANALYTICS_ERRORS[code]
    return ApiError(
        status or known_status,
        {
            "status": "failure",
            "summary": summary or (message or known_message),
            "data": {"errorCode": code, "errorMessage": message or known_message},
        },
    )


def creator_error(code: int, message: str | None = None, status: int | None = None) -> ApiError:
    known_status, known_message = CREATOR_ERRORS[code]
    return ApiError(status or known_status, {"code": code, "message": message or known_message})


def product_of(path: str) -> str:
    """Which product's envelope a path answers in."""
    if path.startswith("/restapi/"):
        return "analytics"
    if path.startswith(("/creator/", "/api/bulk/")):
        return "creator"
    if path.startswith("/bigin/"):
        return "bigin"
    return "crm"


def internal_error(product: str) -> ApiError:
    if product == "analytics":
        return analytics_error(8500)
    if product == "creator":
        return creator_error(1050)
    return crm_error("INTERNAL_ERROR")


def throttled(product: str, retry_after: float) -> ApiError:
    headers = {"Retry-After": str(max(1, round(retry_after)))}
    if product == "analytics":
        err = analytics_error(8510)
    elif product == "creator":
        err = creator_error(2955)
    else:
        err = crm_error("TOO_MANY_REQUESTS")
    err.headers.update(headers)
    return err


def crm_throttle_400() -> ApiError:
    """CRM's other throttle: HTTP 400 whose message says "too many requests" [doc?: seen handled
    by a public CRM tap]; no Retry-After."""
    return crm_error("TOO_MANY_REQUESTS", "too many requests", status=400)


def not_found(product: str) -> ApiError:
    if product == "analytics":
        return analytics_error(8504, "Invalid URL.", status=404)
    if product == "creator":
        return creator_error(1000)
    return crm_error("INVALID_URL_PATTERN")


def bad_method(product: str) -> ApiError:
    if product == "analytics":
        return analytics_error(8504, "The http request method type is not a valid one", status=405)
    if product == "creator":
        return creator_error(1000, "The http request method type is not a valid one", status=405)
    return crm_error("INVALID_REQUEST_METHOD")
