"""Cal.com API v2: the operations our client calls, pinned as facts from Cal.com's OpenAPI document.

Source: calcom/cal.com ``docs/api-reference/v2/openapi.json`` at commit
6c9ac7636b50c02f658eb3971124532cf7d66ba5 (2025-09-26), https://github.com/calcom/cal.com/blob/
6c9ac7636b50c02f658eb3971124532cf7d66ba5/docs/api-reference/v2/openapi.json. That file is AGPL-3.0,
so it is not copied here: this module records, by hand, only the facts our tests rely on (operation
method and path, required parameters and headers, field names, types, enums and required lists),
with prose, examples and every field we neither send nor read left out.

Where the document disagrees with itself it is noted at the spot. Request bodies are closed
(``additionalProperties: false``) although the document leaves them open: the API drops fields its
input classes do not declare, so a field outside them is a field Cal.com never sees.
"""

from __future__ import annotations

from typing import Any

SOURCE = (
    "https://github.com/calcom/cal.com/blob/6c9ac7636b50c02f658eb3971124532cf7d66ba5/docs/api-reference/v2/openapi.json"
)
BOOKINGS_VERSION, SLOTS_VERSION, EVENT_TYPES_VERSION = "2024-08-13", "2024-09-04", "2024-06-14"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _header(name: str, *, required: bool, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"} | ({"default": default} if default else {})
    return {"name": name, "in": "header", "required": required, "schema": schema}


def _query(name: str, *, required: bool = False, type_: str | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": type_} if type_ else {}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_UID = {"name": "bookingUid", "in": "path", "required": True, "schema": {"type": "string"}}
# Booking endpoints take either an API key / access token (Authorization) or a platform OAuth
# client's x-cal-secret-key + x-cal-client-id; all three are optional parameters in the document.
_BOOKING_HEADERS = [
    _header("cal-api-version", required=True, default=BOOKINGS_VERSION),
    _header("Authorization", required=False),
    _header("x-cal-secret-key", required=False),
    _header("x-cal-client-id", required=False),
]
_STATUS = {"type": "string", "enum": ["success", "error"]}
_LANGUAGES = [
    "ar", "ca", "de", "es", "eu", "he", "id", "ja", "lv", "pl", "ro", "sr", "th", "vi", "az", "cs", "el", "es-419",
    "fi", "hr", "it", "km", "nl", "pt", "ru", "sv", "tr", "zh-CN", "bg", "da", "en", "et", "fr", "hu", "iw", "ko",
    "no", "pt-BR", "sk", "ta", "uk", "zh-TW", "bn",
]  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "CreateBookingAttendee": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string"},
            "timeZone": {"type": "string"},
            "phoneNumber": {"type": "string"},
            "language": {"type": "string", "enum": _LANGUAGES},
        },
        "required": ["name", "timeZone"],
        "additionalProperties": False,
    },
    "CreateBookingInput_2024_08_13": {
        "type": "object",
        "properties": {
            "start": {"type": "string"},
            "attendee": _ref("CreateBookingAttendee"),
            "bookingFieldsResponses": {"type": "object"},
            "eventTypeId": {"type": "number"},
            "eventTypeSlug": {"type": "string"},
            "username": {"type": "string"},
            "teamSlug": {"type": "string"},
            "organizationSlug": {"type": "string"},
            "guests": {"type": "array", "items": {"type": "string"}},
            "meetingUrl": {"type": "string"},
            "location": {"type": "object"},  # one of eight location inputs; we send none
            "metadata": {"type": "object"},
            "lengthInMinutes": {"type": "number"},
            "routing": {"type": "object"},
            "emailVerificationCode": {"type": "string"},
        },
        "required": ["start", "attendee"],
        "additionalProperties": False,
    },
    "RescheduleBookingInput_2024_08_13": {
        "type": "object",
        "properties": {
            "start": {"type": "string"},
            "rescheduledBy": {"type": "string"},
            "reschedulingReason": {"type": "string"},
            "emailVerificationCode": {"type": "string"},
        },
        "required": ["start"],
        "additionalProperties": False,
    },
    "CancelBookingInput_2024_08_13": {
        "type": "object",
        "properties": {"cancellationReason": {"type": "string"}, "cancelSubsequentBookings": {"type": "boolean"}},
        "additionalProperties": False,
    },
    "BookingHost": {
        "type": "object",
        "properties": {
            "id": {"type": "number"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "username": {"type": "string"},
            "timeZone": {"type": "string"},
        },
        "required": ["id", "name", "email", "username", "timeZone"],
    },
    "BookingAttendee": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string"},
            "timeZone": {"type": "string"},
            "language": {"type": "string", "enum": _LANGUAGES},
            "absent": {"type": "boolean"},
            "phoneNumber": {"type": "string"},
        },
        "required": ["name", "email", "timeZone", "absent"],
    },
    # The answer for a single, non-seated booking. The document's answers are a oneOf that also
    # admits recurring and seated bookings (recurringBookingUid / seatUid required); we make neither.
    "BookingOutput_2024_08_13": {
        "type": "object",
        "properties": {
            "id": {"type": "number"},
            "uid": {"type": "string"},
            "hosts": {"type": "array", "items": _ref("BookingHost")},
            "status": {"type": "string", "enum": ["cancelled", "accepted", "rejected", "pending"]},
            "cancellationReason": {"type": "string"},
            "cancelledByEmail": {"type": "string"},
            "reschedulingReason": {"type": "string"},
            "rescheduledByEmail": {"type": "string"},
            "rescheduledFromUid": {"type": "string"},
            "rescheduledToUid": {"type": "string"},
            "start": {"type": "string"},
            "end": {"type": "string"},
            "duration": {"type": "number"},
            "eventTypeId": {"type": "number"},
            "eventType": {
                "type": "object",
                "properties": {"id": {"type": "number"}, "slug": {"type": "string"}},
                "required": ["id", "slug"],
            },
            "meetingUrl": {"type": "string"},
            "location": {"type": "string"},
            "absentHost": {"type": "boolean"},
            "createdAt": {"type": "string"},
            "updatedAt": {"type": "string"},
            "metadata": {"type": "object"},
            "rating": {"type": "number"},
            "icsUid": {"type": "string"},
            "attendees": {"type": "array", "items": _ref("BookingAttendee")},
            "guests": {"type": "array", "items": {"type": "string"}},
            "bookingFieldsResponses": {"type": "object"},
        },
        # title and description are required without being listed as properties (the document's own gap)
        "required": [
            "id",
            "uid",
            "title",
            "description",
            "hosts",
            "status",
            "start",
            "end",
            "duration",
            "eventTypeId",
            "eventType",
            "location",
            "absentHost",
            "createdAt",
            "updatedAt",
            "attendees",
            "bookingFieldsResponses",
        ],
    },
    "BookingAnswer": {
        "type": "object",
        "properties": {"status": _STATUS, "data": _ref("BookingOutput_2024_08_13")},
        "required": ["status", "data"],
    },
    "EventTypeOutput_2024_06_14": {
        "type": "object",
        "properties": {
            "id": {"type": "number"},
            "lengthInMinutes": {"type": "number"},
            "title": {"type": "string"},
            "slug": {"type": "string"},
            "description": {"type": "string"},
            "locations": {"type": "array", "items": {"type": "object", "required": ["type"]}},
            "bookingFields": {"type": "array", "items": {"type": "object", "required": ["type"]}},
            "disableGuests": {"type": "boolean"},
            "recurrence": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "interval": {"type": "number"},
                    "occurrences": {"type": "number"},
                    "frequency": {"type": "string", "enum": ["yearly", "monthly", "weekly"]},
                },
                "required": ["interval", "occurrences", "frequency"],
            },
            "metadata": {"type": "object"},
            "price": {"type": "number"},
            "currency": {"type": "string"},
            "lockTimeZoneToggleOnBookingPage": {"type": "boolean"},
            "forwardParamsSuccessRedirect": {"type": "object", "nullable": True},
            "successRedirectUrl": {"type": "object", "nullable": True},
            "isInstantEvent": {"type": "boolean"},
            "scheduleId": {"type": "number", "nullable": True},
            "hidden": {"type": "boolean"},
            "bookingRequiresAuthentication": {"type": "boolean"},
            "ownerId": {"type": "number"},
            "users": {"type": "array", "items": {"type": "string"}},
        },
        "required": [
            "id",
            "lengthInMinutes",
            "title",
            "slug",
            "description",
            "locations",
            "bookingFields",
            "disableGuests",
            "recurrence",
            "metadata",
            "price",
            "currency",
            "lockTimeZoneToggleOnBookingPage",
            "forwardParamsSuccessRedirect",
            "successRedirectUrl",
            "isInstantEvent",
            "scheduleId",
            "hidden",
            "bookingRequiresAuthentication",
            "ownerId",
            "users",
        ],
    },
    "MeOutput": {
        "type": "object",
        "properties": {
            "id": {"type": "number"},
            "username": {"type": "string"},
            "email": {"type": "string"},
            "timeFormat": {"type": "number"},
            "defaultScheduleId": {"type": "number", "nullable": True},
            "weekStart": {"type": "string"},
            "timeZone": {"type": "string"},
            "organizationId": {"type": "number", "nullable": True},
        },
        "required": [
            "id",
            "username",
            "email",
            "timeFormat",
            "defaultScheduleId",
            "weekStart",
            "timeZone",
            "organizationId",
        ],
    },
}

# GET /v2/slots: the document's schema for the 200 answer is a bare date -> slots map, but its own
# examples (and the API) wrap that map in {"status", "data"}; the envelope of the examples is pinned.
_SLOTS_ANSWER = {
    "type": "object",
    "properties": {
        "status": _STATUS,
        "data": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                    "required": ["start"],
                },
            },
        },
    },
    "required": ["status", "data"],
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.0",
    "paths": {
        "/v2/slots": {
            "get": {
                "operationId": "SlotsController_2024_09_04_getAvailableSlots",
                "parameters": [
                    _header("cal-api-version", required=True, default=SLOTS_VERSION),
                    _query("bookingUidToReschedule"),
                    _query("start", required=True),
                    _query("end", required=True),
                    *(_query(name) for name in ("organizationSlug", "teamSlug", "username", "eventTypeSlug")),
                    *(_query(name) for name in ("eventTypeId", "usernames", "format", "duration", "timeZone")),
                ],
                "responses": {"200": _json(_SLOTS_ANSWER)},
            }
        },
        "/v2/bookings": {
            "post": {
                "operationId": "BookingsController_2024_08_13_createBooking",
                "parameters": _BOOKING_HEADERS,
                # the document's body is a oneOf that also admits instant and recurring inputs
                "requestBody": {"required": True, **_json(_ref("CreateBookingInput_2024_08_13"))},
                "responses": {"201": _json(_ref("BookingAnswer"))},
            }
        },
        "/v2/bookings/{bookingUid}": {
            "get": {
                "operationId": "BookingsController_2024_08_13_getBooking",
                "parameters": [*_BOOKING_HEADERS, _UID],
                "responses": {"200": _json(_ref("BookingAnswer"))},
            }
        },
        "/v2/bookings/{bookingUid}/reschedule": {
            "post": {
                "operationId": "BookingsController_2024_08_13_rescheduleBooking",
                "parameters": [*_BOOKING_HEADERS, _UID],
                # also admits a seated reschedule input, which we never send
                "requestBody": {"required": True, **_json(_ref("RescheduleBookingInput_2024_08_13"))},
                "responses": {"201": _json(_ref("BookingAnswer"))},
            }
        },
        "/v2/bookings/{bookingUid}/cancel": {
            "post": {
                "operationId": "BookingsController_2024_08_13_cancelBooking",
                "parameters": [*_BOOKING_HEADERS, _UID],
                # also admits a seated cancel input, which we never send
                "requestBody": {"required": True, **_json(_ref("CancelBookingInput_2024_08_13"))},
                "responses": {"200": _json(_ref("BookingAnswer"))},
            }
        },
        "/v2/event-types": {
            "get": {
                "operationId": "EventTypesController_2024_06_14_getEventTypes",
                "parameters": [
                    _header("cal-api-version", required=True, default=EVENT_TYPES_VERSION),
                    *(_query(name, type_="string") for name in ("username", "eventSlug", "usernames", "orgSlug")),
                    _query("orgId", type_="number"),
                    *_BOOKING_HEADERS[1:],
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": _STATUS,
                                "data": {"type": "array", "items": _ref("EventTypeOutput_2024_06_14")},
                            },
                            "required": ["status", "data"],
                        }
                    )
                },
            }
        },
        "/v2/me": {
            "get": {
                "operationId": "MeController_getMe",
                "parameters": [_header("Authorization", required=True)],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"status": _STATUS, "data": _ref("MeOutput")},
                            "required": ["status", "data"],
                        }
                    )
                },
            }
        },
    },
    "components": {"schemas": SCHEMAS},
}
