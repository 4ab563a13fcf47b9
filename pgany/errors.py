"""Exceptions raised by pgany, and one class per PostgreSQL SQLSTATE.

The tree::

    pgany.Error
    ├── pgany.InterfaceError          misuse of the API
    │   ├── pgany.RowCountError
    │   └── pgany.PoolClosed          the pool is closed
    ├── pgany.PoolTimeout             no pooled connection in time (also a TimeoutError)
    ├── pgany.PoolTooBusy             too many tasks already wait for the pool
    ├── pgany.EncodeError / pgany.DecodeError   value <-> wire conversion
    ├── pgany.ConnectError            could not connect (all hosts tried)
    ├── pgany.ConnectionClosed        the connection is gone
    ├── pgany.ProtocolError           the server sent something invalid
    └── pgany.DatabaseError           the server's ErrorResponse
        └── one class per SQLSTATE class and per SQLSTATE code

The SQLSTATE classes between the ``BEGIN GENERATED`` and ``END GENERATED``
markers are written by ``tools/gen_errors.py`` from PostgreSQL's
``errcodes.txt``; do not edit them by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "ConnectError",
    "ConnectionClosed",
    "DatabaseError",
    "DecodeError",
    "EncodeError",
    "Error",
    "InterfaceError",
    "PoolClosed",
    "PoolTimeout",
    "PoolTooBusy",
    "ProtocolError",
    "RowCountError",
    "lookup",
]


class Error(Exception):
    """Base class of every exception pgany raises."""

    __module__ = "pgany"


class InterfaceError(Error):
    """The API was used in a way it does not allow (nothing was sent)."""

    __module__ = "pgany"


class RowCountError(InterfaceError):
    """A query expected exactly one (or at most one) row and got another count."""

    __module__ = "pgany"


class EncodeError(Error):
    """A Python value could not be converted to a parameter of the PostgreSQL type.

    Raised before anything is sent: the connection is unaffected.
    """

    __module__ = "pgany"


class DecodeError(Error):
    """A value sent by the server could not be converted to a Python value."""

    __module__ = "pgany"


class ConnectError(Error):
    """No connection could be made; the message says which hosts were tried and why."""

    __module__ = "pgany"


class ConnectionClosed(Error):
    """The connection is closed: by :meth:`pgany.Client.close`, or because it broke.

    When the connection broke, ``__cause__`` holds the underlying error.
    """

    __module__ = "pgany"


class ProtocolError(Error):
    """The server sent something that breaks the protocol; the connection is unusable."""

    __module__ = "pgany"


class PoolClosed(InterfaceError):
    """The pool is closed (or closing): it hands out no more connections."""

    __module__ = "pgany"


class PoolTimeout(Error, TimeoutError):
    """No pooled connection became free within the checkout's ``timeout``.

    When the pool could not connect meanwhile, ``__cause__`` holds the last
    connection error.
    """

    __module__ = "pgany"


class PoolTooBusy(Error):
    """``max_waiting`` tasks already wait for a pooled connection: this one is refused at once."""

    __module__ = "pgany"


# ErrorResponse / NoticeResponse field codes and the attribute each becomes.
FIELD_NAMES: Mapping[str, str] = {
    "S": "severity_localized",
    "V": "severity",
    "C": "sqlstate",
    "M": "message",
    "D": "detail",
    "H": "hint",
    "P": "position",
    "p": "internal_position",
    "q": "internal_query",
    "W": "where",
    "s": "schema_name",
    "t": "table_name",
    "c": "column_name",
    "d": "data_type_name",
    "n": "constraint_name",
    "F": "file",
    "L": "line",
    "R": "routine",
}


class DatabaseError(Error):
    """An error reported by the server (an ErrorResponse).

    Every field of the ErrorResponse is an attribute (``None`` when the server
    did not send it). ``str(err)`` reads like psql's message.
    """

    __module__ = "pgany"

    #: The SQLSTATE code this class stands for (``None`` on the base class).
    sqlstate_code: ClassVar[str | None] = None

    severity: str
    severity_localized: str
    sqlstate: str
    message: str
    detail: str | None
    hint: str | None
    position: str | None
    internal_position: str | None
    internal_query: str | None
    where: str | None
    schema_name: str | None
    table_name: str | None
    column_name: str | None
    data_type_name: str | None
    constraint_name: str | None
    file: str | None
    line: str | None
    routine: str | None

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        for attr in FIELD_NAMES.values():
            setattr(self, attr, None)
        self.message = message
        self.sqlstate = self.sqlstate_code or "XX000"
        self.severity = "ERROR"
        self.severity_localized = "ERROR"
        for key, value in fields.items():
            if key not in _ATTRS:
                raise TypeError(f"unknown DatabaseError field {key!r}")
            setattr(self, key, value)
        if self.severity_localized is None:
            self.severity_localized = self.severity

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DatabaseError:
        """Build the exception for the SQLSTATE in an ErrorResponse's fields.

        *fields* maps the one-letter field codes of the protocol to their values.
        """
        kwargs = {FIELD_NAMES[code]: value for code, value in fields.items() if code in FIELD_NAMES}
        sqlstate = kwargs.get("sqlstate") or "XX000"
        kwargs["sqlstate"] = sqlstate
        if "severity" not in kwargs and "severity_localized" in kwargs:
            kwargs["severity"] = kwargs["severity_localized"]
        message = kwargs.pop("message", "")
        return lookup(sqlstate)(message, **kwargs)

    def __str__(self) -> str:
        lines = [f"{self.severity_localized or self.severity}:  {self.message}"]
        if self.detail:
            lines.append(f"DETAIL:  {self.detail}")
        if self.hint:
            lines.append(f"HINT:  {self.hint}")
        if self.where:
            lines.append(f"CONTEXT:  {self.where}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}({self.message!r}, sqlstate={self.sqlstate!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = {attr: getattr(self, attr) for attr in _ATTRS}
        message = state.pop("message")
        return (_rebuild, (type(self), message, state))


_ATTRS = frozenset(FIELD_NAMES.values())


def _rebuild(cls: type[DatabaseError], message: str, state: dict[str, Any]) -> DatabaseError:
    return cls(message, **state)


_by_sqlstate: dict[str, type[DatabaseError]] = {}


def _register(cls: type[DatabaseError]) -> type[DatabaseError]:
    assert cls.sqlstate_code is not None
    _by_sqlstate[cls.sqlstate_code] = cls
    return cls


def lookup(sqlstate: str) -> type[DatabaseError]:
    """Return the exception class for a SQLSTATE code.

    An unknown code falls back to the class of its first two characters
    (``"23xyz"`` gives :class:`IntegrityConstraintViolation`), then to
    :class:`DatabaseError`.
    """
    cls = _by_sqlstate.get(sqlstate)
    if cls is None:
        cls = _by_sqlstate.get(sqlstate[:2] + "000", DatabaseError)
    return cls


# BEGIN GENERATED by tools/gen_errors.py -- do not edit by hand
#
# One class per SQLSTATE class and code of PostgreSQL's errcodes.txt;
# refresh with ``python tools/gen_errors.py [path/to/errcodes.txt]``.


# Class 01 - Warning


@_register
class Warning(DatabaseError):
    """SQLSTATE 01000 (warning): class 01 - Warning."""

    __module__ = "pgany.errors"
    sqlstate_code = "01000"


@_register
class NullValueEliminatedInSetFunction(Warning):
    """SQLSTATE 01003 (null_value_eliminated_in_set_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01003"


@_register
class StringDataRightTruncationWarning(Warning):
    """SQLSTATE 01004 (string_data_right_truncation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01004"


@_register
class PrivilegeNotRevoked(Warning):
    """SQLSTATE 01006 (privilege_not_revoked)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01006"


@_register
class PrivilegeNotGranted(Warning):
    """SQLSTATE 01007 (privilege_not_granted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01007"


@_register
class ImplicitZeroBitPadding(Warning):
    """SQLSTATE 01008 (implicit_zero_bit_padding)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01008"


@_register
class DynamicResultSetsReturned(Warning):
    """SQLSTATE 0100C (dynamic_result_sets_returned)."""

    __module__ = "pgany.errors"
    sqlstate_code = "0100C"


@_register
class DeprecatedFeature(Warning):
    """SQLSTATE 01P01 (deprecated_feature)."""

    __module__ = "pgany.errors"
    sqlstate_code = "01P01"


# Class 02 - No Data (this is also a warning class per the SQL standard)


@_register
class NoData(DatabaseError):
    """SQLSTATE 02000 (no_data): class 02 - No Data (this is also a warning class per the SQL standard)."""

    __module__ = "pgany.errors"
    sqlstate_code = "02000"


@_register
class NoAdditionalDynamicResultSetsReturned(NoData):
    """SQLSTATE 02001 (no_additional_dynamic_result_sets_returned)."""

    __module__ = "pgany.errors"
    sqlstate_code = "02001"


# Class 03 - SQL Statement Not Yet Complete


@_register
class SqlStatementNotYetComplete(DatabaseError):
    """SQLSTATE 03000 (sql_statement_not_yet_complete): class 03 - SQL Statement Not Yet Complete."""

    __module__ = "pgany.errors"
    sqlstate_code = "03000"


# Class 08 - Connection Exception


@_register
class ConnectionException(DatabaseError):
    """SQLSTATE 08000 (connection_exception): class 08 - Connection Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "08000"


@_register
class SqlclientUnableToEstablishSqlconnection(ConnectionException):
    """SQLSTATE 08001 (sqlclient_unable_to_establish_sqlconnection)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08001"


@_register
class ConnectionDoesNotExist(ConnectionException):
    """SQLSTATE 08003 (connection_does_not_exist)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08003"


@_register
class SqlserverRejectedEstablishmentOfSqlconnection(ConnectionException):
    """SQLSTATE 08004 (sqlserver_rejected_establishment_of_sqlconnection)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08004"


@_register
class ConnectionFailure(ConnectionException):
    """SQLSTATE 08006 (connection_failure)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08006"


@_register
class TransactionResolutionUnknown(ConnectionException):
    """SQLSTATE 08007 (transaction_resolution_unknown)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08007"


@_register
class ProtocolViolation(ConnectionException):
    """SQLSTATE 08P01 (protocol_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "08P01"


# Class 09 - Triggered Action Exception


@_register
class TriggeredActionException(DatabaseError):
    """SQLSTATE 09000 (triggered_action_exception): class 09 - Triggered Action Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "09000"


# Class 0A - Feature Not Supported


@_register
class FeatureNotSupported(DatabaseError):
    """SQLSTATE 0A000 (feature_not_supported): class 0A - Feature Not Supported."""

    __module__ = "pgany.errors"
    sqlstate_code = "0A000"


# Class 0B - Invalid Transaction Initiation


@_register
class InvalidTransactionInitiation(DatabaseError):
    """SQLSTATE 0B000 (invalid_transaction_initiation): class 0B - Invalid Transaction Initiation."""

    __module__ = "pgany.errors"
    sqlstate_code = "0B000"


# Class 0F - Locator Exception


@_register
class LocatorException(DatabaseError):
    """SQLSTATE 0F000 (locator_exception): class 0F - Locator Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "0F000"


@_register
class InvalidLocatorSpecification(LocatorException):
    """SQLSTATE 0F001 (invalid_locator_specification)."""

    __module__ = "pgany.errors"
    sqlstate_code = "0F001"


# Class 0L - Invalid Grantor


@_register
class InvalidGrantor(DatabaseError):
    """SQLSTATE 0L000 (invalid_grantor): class 0L - Invalid Grantor."""

    __module__ = "pgany.errors"
    sqlstate_code = "0L000"


@_register
class InvalidGrantOperation(InvalidGrantor):
    """SQLSTATE 0LP01 (invalid_grant_operation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "0LP01"


# Class 0P - Invalid Role Specification


@_register
class InvalidRoleSpecification(DatabaseError):
    """SQLSTATE 0P000 (invalid_role_specification): class 0P - Invalid Role Specification."""

    __module__ = "pgany.errors"
    sqlstate_code = "0P000"


# Class 0Z - Diagnostics Exception


@_register
class DiagnosticsException(DatabaseError):
    """SQLSTATE 0Z000 (diagnostics_exception): class 0Z - Diagnostics Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "0Z000"


@_register
class StackedDiagnosticsAccessedWithoutActiveHandler(DiagnosticsException):
    """SQLSTATE 0Z002 (stacked_diagnostics_accessed_without_active_handler)."""

    __module__ = "pgany.errors"
    sqlstate_code = "0Z002"


# Class 20 - Case Not Found


@_register
class CaseNotFound(DatabaseError):
    """SQLSTATE 20000 (case_not_found): class 20 - Case Not Found."""

    __module__ = "pgany.errors"
    sqlstate_code = "20000"


# Class 21 - Cardinality Violation


@_register
class CardinalityViolation(DatabaseError):
    """SQLSTATE 21000 (cardinality_violation): class 21 - Cardinality Violation."""

    __module__ = "pgany.errors"
    sqlstate_code = "21000"


# Class 22 - Data Exception


@_register
class DataException(DatabaseError):
    """SQLSTATE 22000 (data_exception): class 22 - Data Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "22000"


@_register
class StringDataRightTruncation(DataException):
    """SQLSTATE 22001 (string_data_right_truncation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22001"


@_register
class NullValueNoIndicatorParameter(DataException):
    """SQLSTATE 22002 (null_value_no_indicator_parameter)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22002"


@_register
class NumericValueOutOfRange(DataException):
    """SQLSTATE 22003 (numeric_value_out_of_range)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22003"


@_register
class NullValueNotAllowed(DataException):
    """SQLSTATE 22004 (null_value_not_allowed)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22004"


@_register
class ErrorInAssignment(DataException):
    """SQLSTATE 22005 (error_in_assignment)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22005"


@_register
class InvalidDatetimeFormat(DataException):
    """SQLSTATE 22007 (invalid_datetime_format)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22007"


@_register
class DatetimeFieldOverflow(DataException):
    """SQLSTATE 22008 (datetime_field_overflow)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22008"


@_register
class InvalidTimeZoneDisplacementValue(DataException):
    """SQLSTATE 22009 (invalid_time_zone_displacement_value)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22009"


@_register
class EscapeCharacterConflict(DataException):
    """SQLSTATE 2200B (escape_character_conflict)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200B"


@_register
class InvalidUseOfEscapeCharacter(DataException):
    """SQLSTATE 2200C (invalid_use_of_escape_character)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200C"


@_register
class InvalidEscapeOctet(DataException):
    """SQLSTATE 2200D (invalid_escape_octet)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200D"


@_register
class ZeroLengthCharacterString(DataException):
    """SQLSTATE 2200F (zero_length_character_string)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200F"


@_register
class MostSpecificTypeMismatch(DataException):
    """SQLSTATE 2200G (most_specific_type_mismatch)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200G"


@_register
class SequenceGeneratorLimitExceeded(DataException):
    """SQLSTATE 2200H (sequence_generator_limit_exceeded)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200H"


@_register
class NotAnXmlDocument(DataException):
    """SQLSTATE 2200L (not_an_xml_document)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200L"


@_register
class InvalidXmlDocument(DataException):
    """SQLSTATE 2200M (invalid_xml_document)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200M"


@_register
class InvalidXmlContent(DataException):
    """SQLSTATE 2200N (invalid_xml_content)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200N"


@_register
class InvalidXmlComment(DataException):
    """SQLSTATE 2200S (invalid_xml_comment)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200S"


@_register
class InvalidXmlProcessingInstruction(DataException):
    """SQLSTATE 2200T (invalid_xml_processing_instruction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2200T"


@_register
class InvalidIndicatorParameterValue(DataException):
    """SQLSTATE 22010 (invalid_indicator_parameter_value)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22010"


@_register
class SubstringError(DataException):
    """SQLSTATE 22011 (substring_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22011"


@_register
class DivisionByZero(DataException):
    """SQLSTATE 22012 (division_by_zero)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22012"


@_register
class InvalidPrecedingOrFollowingSize(DataException):
    """SQLSTATE 22013 (invalid_preceding_or_following_size)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22013"


@_register
class InvalidArgumentForNtileFunction(DataException):
    """SQLSTATE 22014 (invalid_argument_for_ntile_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22014"


@_register
class IntervalFieldOverflow(DataException):
    """SQLSTATE 22015 (interval_field_overflow)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22015"


@_register
class InvalidArgumentForNthValueFunction(DataException):
    """SQLSTATE 22016 (invalid_argument_for_nth_value_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22016"


@_register
class InvalidCharacterValueForCast(DataException):
    """SQLSTATE 22018 (invalid_character_value_for_cast)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22018"


@_register
class InvalidEscapeCharacter(DataException):
    """SQLSTATE 22019 (invalid_escape_character)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22019"


@_register
class InvalidRegularExpression(DataException):
    """SQLSTATE 2201B (invalid_regular_expression)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201B"


@_register
class InvalidArgumentForLogarithm(DataException):
    """SQLSTATE 2201E (invalid_argument_for_logarithm)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201E"


@_register
class InvalidArgumentForPowerFunction(DataException):
    """SQLSTATE 2201F (invalid_argument_for_power_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201F"


@_register
class InvalidArgumentForWidthBucketFunction(DataException):
    """SQLSTATE 2201G (invalid_argument_for_width_bucket_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201G"


@_register
class InvalidRowCountInLimitClause(DataException):
    """SQLSTATE 2201W (invalid_row_count_in_limit_clause)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201W"


@_register
class InvalidRowCountInResultOffsetClause(DataException):
    """SQLSTATE 2201X (invalid_row_count_in_result_offset_clause)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2201X"


@_register
class CharacterNotInRepertoire(DataException):
    """SQLSTATE 22021 (character_not_in_repertoire)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22021"


@_register
class IndicatorOverflow(DataException):
    """SQLSTATE 22022 (indicator_overflow)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22022"


@_register
class InvalidParameterValue(DataException):
    """SQLSTATE 22023 (invalid_parameter_value)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22023"


@_register
class UnterminatedCString(DataException):
    """SQLSTATE 22024 (unterminated_c_string)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22024"


@_register
class InvalidEscapeSequence(DataException):
    """SQLSTATE 22025 (invalid_escape_sequence)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22025"


@_register
class StringDataLengthMismatch(DataException):
    """SQLSTATE 22026 (string_data_length_mismatch)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22026"


@_register
class TrimError(DataException):
    """SQLSTATE 22027 (trim_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22027"


@_register
class ArraySubscriptError(DataException):
    """SQLSTATE 2202E (array_subscript_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2202E"


@_register
class InvalidTablesampleRepeat(DataException):
    """SQLSTATE 2202G (invalid_tablesample_repeat)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2202G"


@_register
class InvalidTablesampleArgument(DataException):
    """SQLSTATE 2202H (invalid_tablesample_argument)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2202H"


@_register
class DuplicateJsonObjectKeyValue(DataException):
    """SQLSTATE 22030 (duplicate_json_object_key_value)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22030"


@_register
class InvalidArgumentForSqlJsonDatetimeFunction(DataException):
    """SQLSTATE 22031 (invalid_argument_for_sql_json_datetime_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22031"


@_register
class InvalidJsonText(DataException):
    """SQLSTATE 22032 (invalid_json_text)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22032"


@_register
class InvalidSqlJsonSubscript(DataException):
    """SQLSTATE 22033 (invalid_sql_json_subscript)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22033"


@_register
class MoreThanOneSqlJsonItem(DataException):
    """SQLSTATE 22034 (more_than_one_sql_json_item)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22034"


@_register
class NoSqlJsonItem(DataException):
    """SQLSTATE 22035 (no_sql_json_item)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22035"


@_register
class NonNumericSqlJsonItem(DataException):
    """SQLSTATE 22036 (non_numeric_sql_json_item)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22036"


@_register
class NonUniqueKeysInAJsonObject(DataException):
    """SQLSTATE 22037 (non_unique_keys_in_a_json_object)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22037"


@_register
class SingletonSqlJsonItemRequired(DataException):
    """SQLSTATE 22038 (singleton_sql_json_item_required)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22038"


@_register
class SqlJsonArrayNotFound(DataException):
    """SQLSTATE 22039 (sql_json_array_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22039"


@_register
class SqlJsonMemberNotFound(DataException):
    """SQLSTATE 2203A (sql_json_member_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203A"


@_register
class SqlJsonNumberNotFound(DataException):
    """SQLSTATE 2203B (sql_json_number_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203B"


@_register
class SqlJsonObjectNotFound(DataException):
    """SQLSTATE 2203C (sql_json_object_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203C"


@_register
class TooManyJsonArrayElements(DataException):
    """SQLSTATE 2203D (too_many_json_array_elements)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203D"


@_register
class TooManyJsonObjectMembers(DataException):
    """SQLSTATE 2203E (too_many_json_object_members)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203E"


@_register
class SqlJsonScalarRequired(DataException):
    """SQLSTATE 2203F (sql_json_scalar_required)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203F"


@_register
class SqlJsonItemCannotBeCastToTargetType(DataException):
    """SQLSTATE 2203G (sql_json_item_cannot_be_cast_to_target_type)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2203G"


@_register
class FloatingPointException(DataException):
    """SQLSTATE 22P01 (floating_point_exception)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P01"


@_register
class InvalidTextRepresentation(DataException):
    """SQLSTATE 22P02 (invalid_text_representation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P02"


@_register
class InvalidBinaryRepresentation(DataException):
    """SQLSTATE 22P03 (invalid_binary_representation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P03"


@_register
class BadCopyFileFormat(DataException):
    """SQLSTATE 22P04 (bad_copy_file_format)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P04"


@_register
class UntranslatableCharacter(DataException):
    """SQLSTATE 22P05 (untranslatable_character)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P05"


@_register
class NonstandardUseOfEscapeCharacter(DataException):
    """SQLSTATE 22P06 (nonstandard_use_of_escape_character)."""

    __module__ = "pgany.errors"
    sqlstate_code = "22P06"


# Class 23 - Integrity Constraint Violation


@_register
class IntegrityConstraintViolation(DatabaseError):
    """SQLSTATE 23000 (integrity_constraint_violation): class 23 - Integrity Constraint Violation."""

    __module__ = "pgany.errors"
    sqlstate_code = "23000"


@_register
class RestrictViolation(IntegrityConstraintViolation):
    """SQLSTATE 23001 (restrict_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23001"


@_register
class NotNullViolation(IntegrityConstraintViolation):
    """SQLSTATE 23502 (not_null_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23502"


@_register
class ForeignKeyViolation(IntegrityConstraintViolation):
    """SQLSTATE 23503 (foreign_key_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23503"


@_register
class UniqueViolation(IntegrityConstraintViolation):
    """SQLSTATE 23505 (unique_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23505"


@_register
class CheckViolation(IntegrityConstraintViolation):
    """SQLSTATE 23514 (check_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23514"


@_register
class ExclusionViolation(IntegrityConstraintViolation):
    """SQLSTATE 23P01 (exclusion_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "23P01"


# Class 24 - Invalid Cursor State


@_register
class InvalidCursorState(DatabaseError):
    """SQLSTATE 24000 (invalid_cursor_state): class 24 - Invalid Cursor State."""

    __module__ = "pgany.errors"
    sqlstate_code = "24000"


# Class 25 - Invalid Transaction State


@_register
class InvalidTransactionState(DatabaseError):
    """SQLSTATE 25000 (invalid_transaction_state): class 25 - Invalid Transaction State."""

    __module__ = "pgany.errors"
    sqlstate_code = "25000"


@_register
class ActiveSqlTransaction(InvalidTransactionState):
    """SQLSTATE 25001 (active_sql_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25001"


@_register
class BranchTransactionAlreadyActive(InvalidTransactionState):
    """SQLSTATE 25002 (branch_transaction_already_active)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25002"


@_register
class InappropriateAccessModeForBranchTransaction(InvalidTransactionState):
    """SQLSTATE 25003 (inappropriate_access_mode_for_branch_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25003"


@_register
class InappropriateIsolationLevelForBranchTransaction(InvalidTransactionState):
    """SQLSTATE 25004 (inappropriate_isolation_level_for_branch_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25004"


@_register
class NoActiveSqlTransactionForBranchTransaction(InvalidTransactionState):
    """SQLSTATE 25005 (no_active_sql_transaction_for_branch_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25005"


@_register
class ReadOnlySqlTransaction(InvalidTransactionState):
    """SQLSTATE 25006 (read_only_sql_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25006"


@_register
class SchemaAndDataStatementMixingNotSupported(InvalidTransactionState):
    """SQLSTATE 25007 (schema_and_data_statement_mixing_not_supported)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25007"


@_register
class HeldCursorRequiresSameIsolationLevel(InvalidTransactionState):
    """SQLSTATE 25008 (held_cursor_requires_same_isolation_level)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25008"


@_register
class NoActiveSqlTransaction(InvalidTransactionState):
    """SQLSTATE 25P01 (no_active_sql_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25P01"


@_register
class InFailedSqlTransaction(InvalidTransactionState):
    """SQLSTATE 25P02 (in_failed_sql_transaction)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25P02"


@_register
class IdleInTransactionSessionTimeout(InvalidTransactionState):
    """SQLSTATE 25P03 (idle_in_transaction_session_timeout)."""

    __module__ = "pgany.errors"
    sqlstate_code = "25P03"


# Class 26 - Invalid SQL Statement Name


@_register
class InvalidSqlStatementName(DatabaseError):
    """SQLSTATE 26000 (invalid_sql_statement_name): class 26 - Invalid SQL Statement Name."""

    __module__ = "pgany.errors"
    sqlstate_code = "26000"


# Class 27 - Triggered Data Change Violation


@_register
class TriggeredDataChangeViolation(DatabaseError):
    """SQLSTATE 27000 (triggered_data_change_violation): class 27 - Triggered Data Change Violation."""

    __module__ = "pgany.errors"
    sqlstate_code = "27000"


# Class 28 - Invalid Authorization Specification


@_register
class InvalidAuthorizationSpecification(DatabaseError):
    """SQLSTATE 28000 (invalid_authorization_specification): class 28 - Invalid Authorization Specification."""

    __module__ = "pgany.errors"
    sqlstate_code = "28000"


@_register
class InvalidPassword(InvalidAuthorizationSpecification):
    """SQLSTATE 28P01 (invalid_password)."""

    __module__ = "pgany.errors"
    sqlstate_code = "28P01"


# Class 2B - Dependent Privilege Descriptors Still Exist


@_register
class DependentPrivilegeDescriptorsStillExist(DatabaseError):
    """SQLSTATE 2B000 (dependent_privilege_descriptors_still_exist): class 2B - Dependent Privilege Descriptors Still Exist."""

    __module__ = "pgany.errors"
    sqlstate_code = "2B000"


@_register
class DependentObjectsStillExist(DependentPrivilegeDescriptorsStillExist):
    """SQLSTATE 2BP01 (dependent_objects_still_exist)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2BP01"


# Class 2D - Invalid Transaction Termination


@_register
class InvalidTransactionTermination(DatabaseError):
    """SQLSTATE 2D000 (invalid_transaction_termination): class 2D - Invalid Transaction Termination."""

    __module__ = "pgany.errors"
    sqlstate_code = "2D000"


# Class 2F - SQL Routine Exception


@_register
class SqlRoutineException(DatabaseError):
    """SQLSTATE 2F000 (sql_routine_exception): class 2F - SQL Routine Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "2F000"


@_register
class ModifyingSqlDataNotPermitted(SqlRoutineException):
    """SQLSTATE 2F002 (modifying_sql_data_not_permitted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2F002"


@_register
class ProhibitedSqlStatementAttempted(SqlRoutineException):
    """SQLSTATE 2F003 (prohibited_sql_statement_attempted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2F003"


@_register
class ReadingSqlDataNotPermitted(SqlRoutineException):
    """SQLSTATE 2F004 (reading_sql_data_not_permitted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2F004"


@_register
class FunctionExecutedNoReturnStatement(SqlRoutineException):
    """SQLSTATE 2F005 (function_executed_no_return_statement)."""

    __module__ = "pgany.errors"
    sqlstate_code = "2F005"


# Class 34 - Invalid Cursor Name


@_register
class InvalidCursorName(DatabaseError):
    """SQLSTATE 34000 (invalid_cursor_name): class 34 - Invalid Cursor Name."""

    __module__ = "pgany.errors"
    sqlstate_code = "34000"


# Class 38 - External Routine Exception


@_register
class ExternalRoutineException(DatabaseError):
    """SQLSTATE 38000 (external_routine_exception): class 38 - External Routine Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "38000"


@_register
class ContainingSqlNotPermitted(ExternalRoutineException):
    """SQLSTATE 38001 (containing_sql_not_permitted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "38001"


@_register
class ModifyingSqlDataNotPermittedExt(ExternalRoutineException):
    """SQLSTATE 38002 (modifying_sql_data_not_permitted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "38002"


@_register
class ProhibitedSqlStatementAttemptedExt(ExternalRoutineException):
    """SQLSTATE 38003 (prohibited_sql_statement_attempted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "38003"


@_register
class ReadingSqlDataNotPermittedExt(ExternalRoutineException):
    """SQLSTATE 38004 (reading_sql_data_not_permitted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "38004"


# Class 39 - External Routine Invocation Exception


@_register
class ExternalRoutineInvocationException(DatabaseError):
    """SQLSTATE 39000 (external_routine_invocation_exception): class 39 - External Routine Invocation Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "39000"


@_register
class InvalidSqlstateReturned(ExternalRoutineInvocationException):
    """SQLSTATE 39001 (invalid_sqlstate_returned)."""

    __module__ = "pgany.errors"
    sqlstate_code = "39001"


@_register
class NullValueNotAllowedExt(ExternalRoutineInvocationException):
    """SQLSTATE 39004 (null_value_not_allowed)."""

    __module__ = "pgany.errors"
    sqlstate_code = "39004"


@_register
class TriggerProtocolViolated(ExternalRoutineInvocationException):
    """SQLSTATE 39P01 (trigger_protocol_violated)."""

    __module__ = "pgany.errors"
    sqlstate_code = "39P01"


@_register
class SrfProtocolViolated(ExternalRoutineInvocationException):
    """SQLSTATE 39P02 (srf_protocol_violated)."""

    __module__ = "pgany.errors"
    sqlstate_code = "39P02"


@_register
class EventTriggerProtocolViolated(ExternalRoutineInvocationException):
    """SQLSTATE 39P03 (event_trigger_protocol_violated)."""

    __module__ = "pgany.errors"
    sqlstate_code = "39P03"


# Class 3B - Savepoint Exception


@_register
class SavepointException(DatabaseError):
    """SQLSTATE 3B000 (savepoint_exception): class 3B - Savepoint Exception."""

    __module__ = "pgany.errors"
    sqlstate_code = "3B000"


@_register
class InvalidSavepointSpecification(SavepointException):
    """SQLSTATE 3B001 (invalid_savepoint_specification)."""

    __module__ = "pgany.errors"
    sqlstate_code = "3B001"


# Class 3D - Invalid Catalog Name


@_register
class InvalidCatalogName(DatabaseError):
    """SQLSTATE 3D000 (invalid_catalog_name): class 3D - Invalid Catalog Name."""

    __module__ = "pgany.errors"
    sqlstate_code = "3D000"


# Class 3F - Invalid Schema Name


@_register
class InvalidSchemaName(DatabaseError):
    """SQLSTATE 3F000 (invalid_schema_name): class 3F - Invalid Schema Name."""

    __module__ = "pgany.errors"
    sqlstate_code = "3F000"


# Class 40 - Transaction Rollback


@_register
class TransactionRollback(DatabaseError):
    """SQLSTATE 40000 (transaction_rollback): class 40 - Transaction Rollback."""

    __module__ = "pgany.errors"
    sqlstate_code = "40000"


@_register
class SerializationFailure(TransactionRollback):
    """SQLSTATE 40001 (serialization_failure)."""

    __module__ = "pgany.errors"
    sqlstate_code = "40001"


@_register
class TransactionIntegrityConstraintViolation(TransactionRollback):
    """SQLSTATE 40002 (transaction_integrity_constraint_violation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "40002"


@_register
class StatementCompletionUnknown(TransactionRollback):
    """SQLSTATE 40003 (statement_completion_unknown)."""

    __module__ = "pgany.errors"
    sqlstate_code = "40003"


@_register
class DeadlockDetected(TransactionRollback):
    """SQLSTATE 40P01 (deadlock_detected)."""

    __module__ = "pgany.errors"
    sqlstate_code = "40P01"


# Class 42 - Syntax Error or Access Rule Violation


@_register
class SyntaxErrorOrAccessRuleViolation(DatabaseError):
    """SQLSTATE 42000 (syntax_error_or_access_rule_violation): class 42 - Syntax Error or Access Rule Violation."""

    __module__ = "pgany.errors"
    sqlstate_code = "42000"


@_register
class InsufficientPrivilege(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42501 (insufficient_privilege)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42501"


@_register
class SyntaxError(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42601 (syntax_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42601"


@_register
class InvalidName(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42602 (invalid_name)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42602"


@_register
class InvalidColumnDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42611 (invalid_column_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42611"


@_register
class NameTooLong(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42622 (name_too_long)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42622"


@_register
class DuplicateColumn(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42701 (duplicate_column)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42701"


@_register
class AmbiguousColumn(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42702 (ambiguous_column)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42702"


@_register
class UndefinedColumn(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42703 (undefined_column)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42703"


@_register
class UndefinedObject(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42704 (undefined_object)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42704"


@_register
class DuplicateObject(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42710 (duplicate_object)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42710"


@_register
class DuplicateAlias(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42712 (duplicate_alias)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42712"


@_register
class DuplicateFunction(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42723 (duplicate_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42723"


@_register
class AmbiguousFunction(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42725 (ambiguous_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42725"


@_register
class GroupingError(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42803 (grouping_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42803"


@_register
class DatatypeMismatch(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42804 (datatype_mismatch)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42804"


@_register
class WrongObjectType(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42809 (wrong_object_type)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42809"


@_register
class InvalidForeignKey(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42830 (invalid_foreign_key)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42830"


@_register
class CannotCoerce(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42846 (cannot_coerce)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42846"


@_register
class UndefinedFunction(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42883 (undefined_function)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42883"


@_register
class GeneratedAlways(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 428C9 (generated_always)."""

    __module__ = "pgany.errors"
    sqlstate_code = "428C9"


@_register
class ReservedName(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42939 (reserved_name)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42939"


@_register
class UndefinedTable(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P01 (undefined_table)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P01"


@_register
class UndefinedParameter(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P02 (undefined_parameter)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P02"


@_register
class DuplicateCursor(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P03 (duplicate_cursor)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P03"


@_register
class DuplicateDatabase(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P04 (duplicate_database)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P04"


@_register
class DuplicatePreparedStatement(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P05 (duplicate_prepared_statement)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P05"


@_register
class DuplicateSchema(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P06 (duplicate_schema)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P06"


@_register
class DuplicateTable(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P07 (duplicate_table)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P07"


@_register
class AmbiguousParameter(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P08 (ambiguous_parameter)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P08"


@_register
class AmbiguousAlias(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P09 (ambiguous_alias)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P09"


@_register
class InvalidColumnReference(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P10 (invalid_column_reference)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P10"


@_register
class InvalidCursorDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P11 (invalid_cursor_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P11"


@_register
class InvalidDatabaseDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P12 (invalid_database_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P12"


@_register
class InvalidFunctionDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P13 (invalid_function_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P13"


@_register
class InvalidPreparedStatementDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P14 (invalid_prepared_statement_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P14"


@_register
class InvalidSchemaDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P15 (invalid_schema_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P15"


@_register
class InvalidTableDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P16 (invalid_table_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P16"


@_register
class InvalidObjectDefinition(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P17 (invalid_object_definition)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P17"


@_register
class IndeterminateDatatype(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P18 (indeterminate_datatype)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P18"


@_register
class InvalidRecursion(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P19 (invalid_recursion)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P19"


@_register
class WindowingError(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P20 (windowing_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P20"


@_register
class CollationMismatch(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P21 (collation_mismatch)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P21"


@_register
class IndeterminateCollation(SyntaxErrorOrAccessRuleViolation):
    """SQLSTATE 42P22 (indeterminate_collation)."""

    __module__ = "pgany.errors"
    sqlstate_code = "42P22"


# Class 44 - WITH CHECK OPTION Violation


@_register
class WithCheckOptionViolation(DatabaseError):
    """SQLSTATE 44000 (with_check_option_violation): class 44 - WITH CHECK OPTION Violation."""

    __module__ = "pgany.errors"
    sqlstate_code = "44000"


# Class 53 - Insufficient Resources


@_register
class InsufficientResources(DatabaseError):
    """SQLSTATE 53000 (insufficient_resources): class 53 - Insufficient Resources."""

    __module__ = "pgany.errors"
    sqlstate_code = "53000"


@_register
class DiskFull(InsufficientResources):
    """SQLSTATE 53100 (disk_full)."""

    __module__ = "pgany.errors"
    sqlstate_code = "53100"


@_register
class OutOfMemory(InsufficientResources):
    """SQLSTATE 53200 (out_of_memory)."""

    __module__ = "pgany.errors"
    sqlstate_code = "53200"


@_register
class TooManyConnections(InsufficientResources):
    """SQLSTATE 53300 (too_many_connections)."""

    __module__ = "pgany.errors"
    sqlstate_code = "53300"


@_register
class ConfigurationLimitExceeded(InsufficientResources):
    """SQLSTATE 53400 (configuration_limit_exceeded)."""

    __module__ = "pgany.errors"
    sqlstate_code = "53400"


# Class 54 - Program Limit Exceeded


@_register
class ProgramLimitExceeded(DatabaseError):
    """SQLSTATE 54000 (program_limit_exceeded): class 54 - Program Limit Exceeded."""

    __module__ = "pgany.errors"
    sqlstate_code = "54000"


@_register
class StatementTooComplex(ProgramLimitExceeded):
    """SQLSTATE 54001 (statement_too_complex)."""

    __module__ = "pgany.errors"
    sqlstate_code = "54001"


@_register
class TooManyColumns(ProgramLimitExceeded):
    """SQLSTATE 54011 (too_many_columns)."""

    __module__ = "pgany.errors"
    sqlstate_code = "54011"


@_register
class TooManyArguments(ProgramLimitExceeded):
    """SQLSTATE 54023 (too_many_arguments)."""

    __module__ = "pgany.errors"
    sqlstate_code = "54023"


# Class 55 - Object Not In Prerequisite State


@_register
class ObjectNotInPrerequisiteState(DatabaseError):
    """SQLSTATE 55000 (object_not_in_prerequisite_state): class 55 - Object Not In Prerequisite State."""

    __module__ = "pgany.errors"
    sqlstate_code = "55000"


@_register
class ObjectInUse(ObjectNotInPrerequisiteState):
    """SQLSTATE 55006 (object_in_use)."""

    __module__ = "pgany.errors"
    sqlstate_code = "55006"


@_register
class CantChangeRuntimeParam(ObjectNotInPrerequisiteState):
    """SQLSTATE 55P02 (cant_change_runtime_param)."""

    __module__ = "pgany.errors"
    sqlstate_code = "55P02"


@_register
class LockNotAvailable(ObjectNotInPrerequisiteState):
    """SQLSTATE 55P03 (lock_not_available)."""

    __module__ = "pgany.errors"
    sqlstate_code = "55P03"


@_register
class UnsafeNewEnumValueUsage(ObjectNotInPrerequisiteState):
    """SQLSTATE 55P04 (unsafe_new_enum_value_usage)."""

    __module__ = "pgany.errors"
    sqlstate_code = "55P04"


# Class 57 - Operator Intervention


@_register
class OperatorIntervention(DatabaseError):
    """SQLSTATE 57000 (operator_intervention): class 57 - Operator Intervention."""

    __module__ = "pgany.errors"
    sqlstate_code = "57000"


@_register
class QueryCanceled(OperatorIntervention):
    """SQLSTATE 57014 (query_canceled)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57014"


@_register
class AdminShutdown(OperatorIntervention):
    """SQLSTATE 57P01 (admin_shutdown)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57P01"


@_register
class CrashShutdown(OperatorIntervention):
    """SQLSTATE 57P02 (crash_shutdown)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57P02"


@_register
class CannotConnectNow(OperatorIntervention):
    """SQLSTATE 57P03 (cannot_connect_now)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57P03"


@_register
class DatabaseDropped(OperatorIntervention):
    """SQLSTATE 57P04 (database_dropped)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57P04"


@_register
class IdleSessionTimeout(OperatorIntervention):
    """SQLSTATE 57P05 (idle_session_timeout)."""

    __module__ = "pgany.errors"
    sqlstate_code = "57P05"


# Class 58 - System Error (errors external to PostgreSQL itself)


@_register
class SystemError(DatabaseError):
    """SQLSTATE 58000 (system_error): class 58 - System Error (errors external to PostgreSQL itself)."""

    __module__ = "pgany.errors"
    sqlstate_code = "58000"


@_register
class IoError(SystemError):
    """SQLSTATE 58030 (io_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "58030"


@_register
class UndefinedFile(SystemError):
    """SQLSTATE 58P01 (undefined_file)."""

    __module__ = "pgany.errors"
    sqlstate_code = "58P01"


@_register
class DuplicateFile(SystemError):
    """SQLSTATE 58P02 (duplicate_file)."""

    __module__ = "pgany.errors"
    sqlstate_code = "58P02"


# Class 72 - Snapshot Failure


@_register
class SnapshotTooOld(DatabaseError):
    """SQLSTATE 72000 (snapshot_too_old): class 72 - Snapshot Failure."""

    __module__ = "pgany.errors"
    sqlstate_code = "72000"


# Class F0 - Configuration File Error


@_register
class ConfigFileError(DatabaseError):
    """SQLSTATE F0000 (config_file_error): class F0 - Configuration File Error."""

    __module__ = "pgany.errors"
    sqlstate_code = "F0000"


@_register
class LockFileExists(ConfigFileError):
    """SQLSTATE F0001 (lock_file_exists)."""

    __module__ = "pgany.errors"
    sqlstate_code = "F0001"


# Class HV - Foreign Data Wrapper Error (SQL/MED)


@_register
class FdwError(DatabaseError):
    """SQLSTATE HV000 (fdw_error): class HV - Foreign Data Wrapper Error (SQL/MED)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV000"


@_register
class FdwOutOfMemory(FdwError):
    """SQLSTATE HV001 (fdw_out_of_memory)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV001"


@_register
class FdwDynamicParameterValueNeeded(FdwError):
    """SQLSTATE HV002 (fdw_dynamic_parameter_value_needed)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV002"


@_register
class FdwInvalidDataType(FdwError):
    """SQLSTATE HV004 (fdw_invalid_data_type)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV004"


@_register
class FdwColumnNameNotFound(FdwError):
    """SQLSTATE HV005 (fdw_column_name_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV005"


@_register
class FdwInvalidDataTypeDescriptors(FdwError):
    """SQLSTATE HV006 (fdw_invalid_data_type_descriptors)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV006"


@_register
class FdwInvalidColumnName(FdwError):
    """SQLSTATE HV007 (fdw_invalid_column_name)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV007"


@_register
class FdwInvalidColumnNumber(FdwError):
    """SQLSTATE HV008 (fdw_invalid_column_number)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV008"


@_register
class FdwInvalidUseOfNullPointer(FdwError):
    """SQLSTATE HV009 (fdw_invalid_use_of_null_pointer)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV009"


@_register
class FdwInvalidStringFormat(FdwError):
    """SQLSTATE HV00A (fdw_invalid_string_format)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00A"


@_register
class FdwInvalidHandle(FdwError):
    """SQLSTATE HV00B (fdw_invalid_handle)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00B"


@_register
class FdwInvalidOptionIndex(FdwError):
    """SQLSTATE HV00C (fdw_invalid_option_index)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00C"


@_register
class FdwInvalidOptionName(FdwError):
    """SQLSTATE HV00D (fdw_invalid_option_name)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00D"


@_register
class FdwOptionNameNotFound(FdwError):
    """SQLSTATE HV00J (fdw_option_name_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00J"


@_register
class FdwReplyHandle(FdwError):
    """SQLSTATE HV00K (fdw_reply_handle)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00K"


@_register
class FdwUnableToCreateExecution(FdwError):
    """SQLSTATE HV00L (fdw_unable_to_create_execution)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00L"


@_register
class FdwUnableToCreateReply(FdwError):
    """SQLSTATE HV00M (fdw_unable_to_create_reply)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00M"


@_register
class FdwUnableToEstablishConnection(FdwError):
    """SQLSTATE HV00N (fdw_unable_to_establish_connection)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00N"


@_register
class FdwNoSchemas(FdwError):
    """SQLSTATE HV00P (fdw_no_schemas)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00P"


@_register
class FdwSchemaNotFound(FdwError):
    """SQLSTATE HV00Q (fdw_schema_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00Q"


@_register
class FdwTableNotFound(FdwError):
    """SQLSTATE HV00R (fdw_table_not_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV00R"


@_register
class FdwFunctionSequenceError(FdwError):
    """SQLSTATE HV010 (fdw_function_sequence_error)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV010"


@_register
class FdwTooManyHandles(FdwError):
    """SQLSTATE HV014 (fdw_too_many_handles)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV014"


@_register
class FdwInconsistentDescriptorInformation(FdwError):
    """SQLSTATE HV021 (fdw_inconsistent_descriptor_information)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV021"


@_register
class FdwInvalidAttributeValue(FdwError):
    """SQLSTATE HV024 (fdw_invalid_attribute_value)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV024"


@_register
class FdwInvalidStringLengthOrBufferLength(FdwError):
    """SQLSTATE HV090 (fdw_invalid_string_length_or_buffer_length)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV090"


@_register
class FdwInvalidDescriptorFieldIdentifier(FdwError):
    """SQLSTATE HV091 (fdw_invalid_descriptor_field_identifier)."""

    __module__ = "pgany.errors"
    sqlstate_code = "HV091"


# Class P0 - PL/pgSQL Error


@_register
class PlpgsqlError(DatabaseError):
    """SQLSTATE P0000 (plpgsql_error): class P0 - PL/pgSQL Error."""

    __module__ = "pgany.errors"
    sqlstate_code = "P0000"


@_register
class RaiseException(PlpgsqlError):
    """SQLSTATE P0001 (raise_exception)."""

    __module__ = "pgany.errors"
    sqlstate_code = "P0001"


@_register
class NoDataFound(PlpgsqlError):
    """SQLSTATE P0002 (no_data_found)."""

    __module__ = "pgany.errors"
    sqlstate_code = "P0002"


@_register
class TooManyRows(PlpgsqlError):
    """SQLSTATE P0003 (too_many_rows)."""

    __module__ = "pgany.errors"
    sqlstate_code = "P0003"


@_register
class AssertFailure(PlpgsqlError):
    """SQLSTATE P0004 (assert_failure)."""

    __module__ = "pgany.errors"
    sqlstate_code = "P0004"


# Class XX - Internal Error


@_register
class InternalError(DatabaseError):
    """SQLSTATE XX000 (internal_error): class XX - Internal Error."""

    __module__ = "pgany.errors"
    sqlstate_code = "XX000"


@_register
class DataCorrupted(InternalError):
    """SQLSTATE XX001 (data_corrupted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "XX001"


@_register
class IndexCorrupted(InternalError):
    """SQLSTATE XX002 (index_corrupted)."""

    __module__ = "pgany.errors"
    sqlstate_code = "XX002"


__all__ += [
    "ActiveSqlTransaction",
    "AdminShutdown",
    "AmbiguousAlias",
    "AmbiguousColumn",
    "AmbiguousFunction",
    "AmbiguousParameter",
    "ArraySubscriptError",
    "AssertFailure",
    "BadCopyFileFormat",
    "BranchTransactionAlreadyActive",
    "CannotCoerce",
    "CannotConnectNow",
    "CantChangeRuntimeParam",
    "CardinalityViolation",
    "CaseNotFound",
    "CharacterNotInRepertoire",
    "CheckViolation",
    "CollationMismatch",
    "ConfigFileError",
    "ConfigurationLimitExceeded",
    "ConnectionDoesNotExist",
    "ConnectionException",
    "ConnectionFailure",
    "ContainingSqlNotPermitted",
    "CrashShutdown",
    "DataCorrupted",
    "DataException",
    "DatabaseDropped",
    "DatatypeMismatch",
    "DatetimeFieldOverflow",
    "DeadlockDetected",
    "DependentObjectsStillExist",
    "DependentPrivilegeDescriptorsStillExist",
    "DeprecatedFeature",
    "DiagnosticsException",
    "DiskFull",
    "DivisionByZero",
    "DuplicateAlias",
    "DuplicateColumn",
    "DuplicateCursor",
    "DuplicateDatabase",
    "DuplicateFile",
    "DuplicateFunction",
    "DuplicateJsonObjectKeyValue",
    "DuplicateObject",
    "DuplicatePreparedStatement",
    "DuplicateSchema",
    "DuplicateTable",
    "DynamicResultSetsReturned",
    "ErrorInAssignment",
    "EscapeCharacterConflict",
    "EventTriggerProtocolViolated",
    "ExclusionViolation",
    "ExternalRoutineException",
    "ExternalRoutineInvocationException",
    "FdwColumnNameNotFound",
    "FdwDynamicParameterValueNeeded",
    "FdwError",
    "FdwFunctionSequenceError",
    "FdwInconsistentDescriptorInformation",
    "FdwInvalidAttributeValue",
    "FdwInvalidColumnName",
    "FdwInvalidColumnNumber",
    "FdwInvalidDataType",
    "FdwInvalidDataTypeDescriptors",
    "FdwInvalidDescriptorFieldIdentifier",
    "FdwInvalidHandle",
    "FdwInvalidOptionIndex",
    "FdwInvalidOptionName",
    "FdwInvalidStringFormat",
    "FdwInvalidStringLengthOrBufferLength",
    "FdwInvalidUseOfNullPointer",
    "FdwNoSchemas",
    "FdwOptionNameNotFound",
    "FdwOutOfMemory",
    "FdwReplyHandle",
    "FdwSchemaNotFound",
    "FdwTableNotFound",
    "FdwTooManyHandles",
    "FdwUnableToCreateExecution",
    "FdwUnableToCreateReply",
    "FdwUnableToEstablishConnection",
    "FeatureNotSupported",
    "FloatingPointException",
    "ForeignKeyViolation",
    "FunctionExecutedNoReturnStatement",
    "GeneratedAlways",
    "GroupingError",
    "HeldCursorRequiresSameIsolationLevel",
    "IdleInTransactionSessionTimeout",
    "IdleSessionTimeout",
    "ImplicitZeroBitPadding",
    "InFailedSqlTransaction",
    "InappropriateAccessModeForBranchTransaction",
    "InappropriateIsolationLevelForBranchTransaction",
    "IndeterminateCollation",
    "IndeterminateDatatype",
    "IndexCorrupted",
    "IndicatorOverflow",
    "InsufficientPrivilege",
    "InsufficientResources",
    "IntegrityConstraintViolation",
    "InternalError",
    "IntervalFieldOverflow",
    "InvalidArgumentForLogarithm",
    "InvalidArgumentForNthValueFunction",
    "InvalidArgumentForNtileFunction",
    "InvalidArgumentForPowerFunction",
    "InvalidArgumentForSqlJsonDatetimeFunction",
    "InvalidArgumentForWidthBucketFunction",
    "InvalidAuthorizationSpecification",
    "InvalidBinaryRepresentation",
    "InvalidCatalogName",
    "InvalidCharacterValueForCast",
    "InvalidColumnDefinition",
    "InvalidColumnReference",
    "InvalidCursorDefinition",
    "InvalidCursorName",
    "InvalidCursorState",
    "InvalidDatabaseDefinition",
    "InvalidDatetimeFormat",
    "InvalidEscapeCharacter",
    "InvalidEscapeOctet",
    "InvalidEscapeSequence",
    "InvalidForeignKey",
    "InvalidFunctionDefinition",
    "InvalidGrantOperation",
    "InvalidGrantor",
    "InvalidIndicatorParameterValue",
    "InvalidJsonText",
    "InvalidLocatorSpecification",
    "InvalidName",
    "InvalidObjectDefinition",
    "InvalidParameterValue",
    "InvalidPassword",
    "InvalidPrecedingOrFollowingSize",
    "InvalidPreparedStatementDefinition",
    "InvalidRecursion",
    "InvalidRegularExpression",
    "InvalidRoleSpecification",
    "InvalidRowCountInLimitClause",
    "InvalidRowCountInResultOffsetClause",
    "InvalidSavepointSpecification",
    "InvalidSchemaDefinition",
    "InvalidSchemaName",
    "InvalidSqlJsonSubscript",
    "InvalidSqlStatementName",
    "InvalidSqlstateReturned",
    "InvalidTableDefinition",
    "InvalidTablesampleArgument",
    "InvalidTablesampleRepeat",
    "InvalidTextRepresentation",
    "InvalidTimeZoneDisplacementValue",
    "InvalidTransactionInitiation",
    "InvalidTransactionState",
    "InvalidTransactionTermination",
    "InvalidUseOfEscapeCharacter",
    "InvalidXmlComment",
    "InvalidXmlContent",
    "InvalidXmlDocument",
    "InvalidXmlProcessingInstruction",
    "IoError",
    "LocatorException",
    "LockFileExists",
    "LockNotAvailable",
    "ModifyingSqlDataNotPermitted",
    "ModifyingSqlDataNotPermittedExt",
    "MoreThanOneSqlJsonItem",
    "MostSpecificTypeMismatch",
    "NameTooLong",
    "NoActiveSqlTransaction",
    "NoActiveSqlTransactionForBranchTransaction",
    "NoAdditionalDynamicResultSetsReturned",
    "NoData",
    "NoDataFound",
    "NoSqlJsonItem",
    "NonNumericSqlJsonItem",
    "NonUniqueKeysInAJsonObject",
    "NonstandardUseOfEscapeCharacter",
    "NotAnXmlDocument",
    "NotNullViolation",
    "NullValueEliminatedInSetFunction",
    "NullValueNoIndicatorParameter",
    "NullValueNotAllowed",
    "NullValueNotAllowedExt",
    "NumericValueOutOfRange",
    "ObjectInUse",
    "ObjectNotInPrerequisiteState",
    "OperatorIntervention",
    "OutOfMemory",
    "PlpgsqlError",
    "PrivilegeNotGranted",
    "PrivilegeNotRevoked",
    "ProgramLimitExceeded",
    "ProhibitedSqlStatementAttempted",
    "ProhibitedSqlStatementAttemptedExt",
    "ProtocolViolation",
    "QueryCanceled",
    "RaiseException",
    "ReadOnlySqlTransaction",
    "ReadingSqlDataNotPermitted",
    "ReadingSqlDataNotPermittedExt",
    "ReservedName",
    "RestrictViolation",
    "SavepointException",
    "SchemaAndDataStatementMixingNotSupported",
    "SequenceGeneratorLimitExceeded",
    "SerializationFailure",
    "SingletonSqlJsonItemRequired",
    "SnapshotTooOld",
    "SqlJsonArrayNotFound",
    "SqlJsonItemCannotBeCastToTargetType",
    "SqlJsonMemberNotFound",
    "SqlJsonNumberNotFound",
    "SqlJsonObjectNotFound",
    "SqlJsonScalarRequired",
    "SqlRoutineException",
    "SqlStatementNotYetComplete",
    "SqlclientUnableToEstablishSqlconnection",
    "SqlserverRejectedEstablishmentOfSqlconnection",
    "SrfProtocolViolated",
    "StackedDiagnosticsAccessedWithoutActiveHandler",
    "StatementCompletionUnknown",
    "StatementTooComplex",
    "StringDataLengthMismatch",
    "StringDataRightTruncation",
    "StringDataRightTruncationWarning",
    "SubstringError",
    "SyntaxError",
    "SyntaxErrorOrAccessRuleViolation",
    "SystemError",
    "TooManyArguments",
    "TooManyColumns",
    "TooManyConnections",
    "TooManyJsonArrayElements",
    "TooManyJsonObjectMembers",
    "TooManyRows",
    "TransactionIntegrityConstraintViolation",
    "TransactionResolutionUnknown",
    "TransactionRollback",
    "TriggerProtocolViolated",
    "TriggeredActionException",
    "TriggeredDataChangeViolation",
    "TrimError",
    "UndefinedColumn",
    "UndefinedFile",
    "UndefinedFunction",
    "UndefinedObject",
    "UndefinedParameter",
    "UndefinedTable",
    "UniqueViolation",
    "UnsafeNewEnumValueUsage",
    "UnterminatedCString",
    "UntranslatableCharacter",
    "Warning",
    "WindowingError",
    "WithCheckOptionViolation",
    "WrongObjectType",
    "ZeroLengthCharacterString",
]
# END GENERATED
