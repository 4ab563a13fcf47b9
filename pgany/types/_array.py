"""Arrays of any element type, any number of dimensions, as nested lists.

Binary format (``array_send`` / ``array_recv`` in
``src/backend/utils/adt/arrayfuncs.c``): int32 number of dimensions (0 for
an empty array, at most 6), int32 has-NULLs flag, uint32 element type OID,
then for each dimension int32 size and int32 lower bound, then the elements
in row-major order, each as int32 length (-1 for NULL) and its bytes in the
element type's binary format.

Text format (``array_out`` / ``array_in``): ``{1,2,NULL}``, ``{{1,2},{3,4}}``,
``{}``; an element is double-quoted when it is empty, is ``NULL`` in any
case, or holds ``{``, ``}``, ``"``, ``\\``, the delimiter or whitespace, and
inside quotes ``"`` and ``\\`` are backslash-escaped. The delimiter is ``,``
for every type but box (``;``). Arrays whose lower bounds are not 1 print as
``[0:1]={1,2}``.

Lower bounds are not kept: ``'[0:2]={1,2,3}'::int[]`` reads as ``[1, 2, 3]``,
and parameters always start at 1. Parameters are nested lists or tuples;
they must be rectangular, and an array with no elements at all (``[]``,
``[[], []]``) is sent as the empty array. The outermost list or tuple is
always the array; inside it, for element types whose values are tuples
(composites, point) only lists are dimensions, and for element types
whose values are lists of ranges (multiranges) only lists of lists are. In
json and jsonb arrays the path of first elements fixes the dimensions, and
a list found where an element is expected is a JSON array:
``[{"a": 1}, [1, 2]]`` is one-dimensional, ``[[1, 2], [3, 4]]`` two.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import type_error
from ._registry import Codec, Decoder, Encoder, Format, TypeRegistry

__all__ = [
    "ANY_VALUES",
    "LIST_VALUES",
    "TUPLE_VALUES",
    "array_codecs",
    "register_array_of",
    "register_array_types",
]

#: The attribute set (to True) on an encoder whose Python values may be tuples,
#: so that arrays of its type treat tuples as elements, not dimensions.
TUPLE_VALUES = "_pgany_tuple_values"
#: The attribute set (to True) on an encoder whose Python values are lists of
#: non-lists (multiranges): in arrays of its type, only a list of lists is a dimension.
LIST_VALUES = "_pgany_list_values"

#: The attribute set (to True) on an encoder whose Python values may be lists
#: of any shape (JSON): in arrays of its type, the dimensions follow the first
#: elements, and lists found where elements are expected are elements.
ANY_VALUES = "_pgany_any_values"
#: Element types taken as marked with ANY_VALUES: json and jsonb.
_ANY_VALUES_OIDS = frozenset((114, 3802))

#: PostgreSQL's MAXDIM.
_MAX_DIMS = 6
#: Element types whose text arrays use another delimiter than ",".
_DELIMITERS = {603: ";"}  # box

_head = struct.Struct(">iiI")
_pack_head = _head.pack
_unpack_head: Callable[[Any, int], tuple[int, int, int]] = _head.unpack_from
_int4 = struct.Struct(">i")
_pack_int4 = _int4.pack
_unpack_int4: Callable[[Any, int], tuple[int]] = _int4.unpack_from
_dim = struct.Struct(">ii")
_pack_dim = _dim.pack
_NULL = b"\xff\xff\xff\xff"


def _marked(codec: Codec | None, marker: str) -> bool:
    return codec is not None and bool(getattr(codec.encode, marker, False))


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_list_or_tuple(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _is_list_of_lists(value: Any) -> bool:
    # For elements that are lists (of ranges): a list is a dimension if it holds lists.
    return isinstance(value, (list, tuple)) and bool(value) and isinstance(value[0], (list, tuple))


_Shape = Callable[[Any], tuple[list[int], list[Any]]]


def _shape(
    value: Any, is_dim: Callable[[Any], bool], name: str, leaves: bool
) -> tuple[list[int], list[Any]]:
    """The dimensions of the nested lists *value* and its elements in row-major order.

    *value* itself is always the outer dimension; *is_dim* says which of the
    objects inside it are dimensions too, and those on the path of first
    elements fix the dimensions. With *leaves*, what looks like a dimension
    where elements are expected is an element; otherwise it is ragged.
    """
    if not isinstance(value, (list, tuple)):
        raise type_error(value, name, "a list")
    dims = [len(value)]
    v = value
    while v:
        v = v[0]
        if not is_dim(v):
            break
        dims.append(len(v))
    if len(dims) > _MAX_DIMS:
        raise EncodeError(f"cannot encode an array of {len(dims)} dimensions as {name} (max 6)")
    if len(dims) == 1:
        if not leaves:
            for item in value:
                if is_dim(item):
                    raise _ragged(name)
        return dims, value if isinstance(value, list) else list(value)
    flat: list[Any] = []
    append = flat.append
    last = len(dims) - 1

    def walk(v: Any, depth: int) -> None:
        if len(v) != dims[depth]:
            raise _ragged(name)
        if depth == last:
            for item in v:
                if not leaves and is_dim(item):
                    raise _ragged(name)
                append(item)
        else:
            for item in v:
                if not is_dim(item):
                    raise _ragged(name)
                walk(item, depth + 1)

    walk(value, 0)
    return dims, flat


def _ragged(name: str) -> EncodeError:
    return EncodeError(
        f"cannot encode a ragged list as {name}: "
        "multidimensional arrays must have sub-arrays of matching lengths"
    )


def _nest(items: list[Any], dims: list[int] | tuple[int, ...]) -> list[Any]:
    """*items* (row-major) as nested lists of dimensions *dims*."""
    for size in reversed(dims[1:]):
        items = [items[i : i + size] for i in range(0, len(items), size)]
    return items


# -- binary -----------------------------------------------------------------------------------


def _binary_encoder(enc: Encoder, element_oid: int, shape: _Shape) -> Encoder:
    def encode(value: Any) -> bytes:
        dims, flat = shape(value)
        if not flat:
            return _pack_head(0, 0, element_oid)
        out = bytearray(_pack_head(len(dims), 0, element_oid))
        for size in dims:
            out += _pack_dim(size, 1)
        has_null = False
        for item in flat:
            if item is None:
                out += _NULL
                has_null = True
            else:
                data = enc(item)
                out += _pack_int4(len(data))
                out += data
        if has_null:
            out[7] = 1
        return bytes(out)

    return encode


def _binary_decoder(dec: Decoder, element_oid: int, name: str) -> Decoder:
    def decode(data: Any) -> list[Any]:
        view = memoryview(data)
        ndim, _flags, oid = _unpack_head(view, 0)
        if ndim == 0:
            return []
        if not 0 < ndim <= _MAX_DIMS:
            raise DecodeError(f"invalid {name} value: {ndim} dimensions")
        if oid != element_oid:
            raise DecodeError(f"{name} value has elements of type {oid}, not {element_oid}")
        dims: tuple[int, ...] = struct.unpack_from(f">{2 * ndim}i", view, 12)[::2]
        count = 1
        for size in dims:
            count *= size
        pos = 12 + 8 * ndim
        end = len(view)
        items: list[Any] = []
        append = items.append
        for _ in range(count):
            if pos + 4 > end:
                break
            n = _unpack_int4(view, pos)[0]
            pos += 4
            if n < 0:
                append(None)
            else:
                if pos + n > end:
                    break
                append(dec(view[pos : pos + n]))
                pos += n
        if pos != end or len(items) != count:
            raise DecodeError(f"invalid {name} value: its lengths do not add up")
        return _nest(items, dims) if ndim > 1 else items

    return decode


# -- text -------------------------------------------------------------------------------------

_DIMS_DECORATION = re.compile(rb"\s*(?:\[\s*[+-]?\d+\s*(?::\s*[+-]?\d+\s*)?\]\s*)+=")
_UNESCAPE = re.compile(rb"\\(.)", re.S)
_TOKENS: dict[str, Callable[[bytes, int], re.Match[bytes] | None]] = {}
_NEEDS_QUOTES: dict[str, Callable[[bytes], re.Match[bytes] | None]] = {}


def _token_matcher(delimiter: str) -> Callable[[bytes, int], re.Match[bytes] | None]:
    """Matches one token: { or } or the delimiter or a quoted or an unquoted element."""
    matcher = _TOKENS.get(delimiter)
    if matcher is None:
        d = re.escape(delimiter)
        # An unquoted element may hold inner whitespace, but not lead or end with it.
        edge = rf'(?:[^{{}}"\\\s{d}]|\\.)'
        inner = rf'(?:[^{{}}"\\{d}]|\\.)*'
        pattern = rf'\s*(?:(\{{)|(\}})|({d})|"((?:[^"\\]|\\.)*)"|({edge}(?:{inner}{edge})?))'
        matcher = _TOKENS[delimiter] = re.compile(pattern.encode(), re.S).match
    return matcher


def _needs_quotes(delimiter: str) -> Callable[[bytes], re.Match[bytes] | None]:
    search = _NEEDS_QUOTES.get(delimiter)
    if search is None:
        d = re.escape(delimiter)
        pattern = rf'[{{}}"\\\s{d}]|\A\Z|\A[Nn][Uu][Ll][Ll]\Z'
        search = _NEEDS_QUOTES[delimiter] = re.compile(pattern.encode()).search
    return search


def _text_encoder(enc: Encoder, delimiter: str, shape: _Shape) -> Encoder:
    delim = delimiter.encode("ascii")
    needs_quotes = _needs_quotes(delimiter)

    def quoted(item: Any) -> bytes:
        if item is None:
            return b"NULL"
        data = bytes(enc(item))
        if needs_quotes(data) is None:
            return data
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'

    def encode(value: Any) -> bytes:
        dims, flat = shape(value)
        if not flat:
            return b"{}"
        pieces = [quoted(item) for item in flat]
        for size in reversed(dims):
            pieces = [
                b"{" + delim.join(pieces[i : i + size]) + b"}" for i in range(0, len(pieces), size)
            ]
        return pieces[0]

    return encode


def _text_decoder(dec: Decoder, name: str, delimiter: str) -> Decoder:
    token = _token_matcher(delimiter)

    def fail(text: bytes) -> DecodeError:
        return DecodeError(f"cannot parse {text[:60]!r} as {name}")

    def decode(data: Any) -> list[Any]:
        text = bytes(data)
        match = _DIMS_DECORATION.match(text)  # "[0:1]=" and the like: bounds are not kept
        pos = match.end() if match is not None else 0
        match = token(text, pos)
        if match is None or match.group(1) is None:
            raise fail(text)
        pos = match.end()
        root: list[Any] = []
        stack = [root]
        current = root
        state = _OPENED
        while True:
            match = token(text, pos)
            if match is None:
                raise fail(text)
            pos = match.end()
            open_, close, delim, quoted, bare = match.groups()
            if open_ is not None:
                if state == _AFTER_VALUE:
                    raise fail(text)
                new: list[Any] = []
                current.append(new)
                stack.append(new)
                current = new
                state = _OPENED
            elif close is not None:
                if state == _AFTER_DELIMITER:
                    raise fail(text)
                stack.pop()
                if not stack:
                    break
                current = stack[-1]
                state = _AFTER_VALUE
            elif delim is not None:
                if state != _AFTER_VALUE:
                    raise fail(text)
                state = _AFTER_DELIMITER
            else:
                if state == _AFTER_VALUE:
                    raise fail(text)
                state = _AFTER_VALUE
                if quoted is None:
                    if len(bare) == 4 and bare.upper() == b"NULL":
                        current.append(None)
                        continue
                    quoted = bare
                if b"\\" in quoted:
                    quoted = _UNESCAPE.sub(rb"\1", quoted)
                current.append(dec(quoted))
        if text[pos:].strip():
            raise DecodeError(f"cannot parse {text[:60]!r} as {name}: junk after the array")
        return root

    return decode


_OPENED = 0
_AFTER_VALUE = 1
_AFTER_DELIMITER = 2


# -- building and registering ------------------------------------------------------------------


def array_codecs(
    element: Codec | None,
    element_text: Codec | None,
    array_oid: int,
    element_oid: int,
    name: str,
    delimiter: str = ",",
    *,
    tuple_elements: bool | None = None,
) -> list[Codec]:
    """The binary and text codecs of an array type, from its element type's codecs.

    *element* is the element type's binary codec and *element_text* its text
    codec (either may be ``None``: the array then has no codec in that
    format); *name* is the array type's name (``"_int4"``) and *delimiter*
    its element type's ``typdelim``. Arrays decode to nested lists (``None``
    for NULL elements) and encode from nested lists. A tuple is a dimension
    too, unless *tuple_elements* is true (the default when the element
    type's encoder is marked as taking tuples, as composites and point are).
    For elements that are lists themselves (multiranges), a list inside the
    array is a dimension only if it holds lists. For JSON elements, the
    first elements fix the dimensions and lists where elements are expected
    are JSON arrays.
    """
    if len(delimiter) != 1:
        raise ValueError(f"the delimiter must be one character, not {delimiter!r}")
    if tuple_elements is None:
        tuple_elements = _marked(element, TUPLE_VALUES) or _marked(element_text, TUPLE_VALUES)
    leaves = (
        element_oid in _ANY_VALUES_OIDS
        or _marked(element, ANY_VALUES)
        or _marked(element_text, ANY_VALUES)
    )
    if _marked(element, LIST_VALUES) or _marked(element_text, LIST_VALUES):
        is_dim = _is_list_of_lists
    else:
        is_dim = _is_list if tuple_elements else _is_list_or_tuple

    def shape(value: Any) -> tuple[list[int], list[Any]]:
        return _shape(value, is_dim, name, leaves)

    codecs = []
    if element is not None and (element.encode is not None or element.decode is not None):
        encode = element.encode
        decode = element.decode
        codecs.append(
            Codec(
                array_oid,
                name,
                Format.BINARY,
                _binary_encoder(encode, element_oid, shape) if encode else None,
                _binary_decoder(decode, element_oid, name) if decode else None,
            )
        )
    if element_text is not None and (
        element_text.encode is not None or element_text.decode is not None
    ):
        encode = element_text.encode
        decode = element_text.decode
        codecs.append(
            Codec(
                array_oid,
                name,
                Format.TEXT,
                _text_encoder(encode, delimiter, shape) if encode else None,
                _text_decoder(decode, name, delimiter) if decode else None,
            )
        )
    return codecs


array_codecs.__module__ = "pgany.types"


def register_array_types(registry: TypeRegistry, element_oids: Iterable[int] | None = None) -> None:
    """(Re)build and register the array codecs of types in *registry*.

    For every type with an ``array_oid`` (or only those in *element_oids*),
    register the codecs of its array type, made from the type's current
    codecs. Call it again after replacing a type's codec so that its arrays
    follow.
    """
    wanted = None if element_oids is None else set(element_oids)
    found: dict[int, int] = {}
    for codec in list(registry):
        if codec.array_oid and (wanted is None or codec.oid in wanted):
            found.setdefault(codec.oid, codec.array_oid)
    for oid, array_oid in found.items():
        register_array_of(registry, oid, array_oid)


def register_array_of(registry: TypeRegistry, oid: int, array_oid: int) -> None:
    """Register the codecs of the array type *array_oid* of type *oid*, from *oid*'s codecs."""
    binary = registry.get(oid, Format.BINARY)
    text = registry.get(oid, Format.TEXT)
    element = binary or text
    if element is None:
        return
    codecs = array_codecs(
        binary, text, array_oid, oid, "_" + element.name, _DELIMITERS.get(oid, ",")
    )
    for codec in codecs:
        registry.register(codec)
    # A format the element type has no codec in any more is gone from its arrays too.
    for fmt in {Format.BINARY, Format.TEXT} - {c.format for c in codecs}:
        registry.remove(array_oid, fmt)
