#!/usr/bin/env python3
"""A framelog writer in the Python 3 standard library alone (protocol v1, PROTOCOL.md §1 and §5).

A writer never touches shared state: it emits *deltas*, one JSON object per unit of work, into the
store's ``inbox/``; ``framelog merge`` applies them at frame boundaries.

    from framelog_writer import Writer

    w = Writer(".framelog", "py-1")
    w.emit(530, items={"posts": [{"id": 6201, "title": "..."}]},
           counters={"total_items": 1}, set={"agents": {"42": {"status": "idle"}}})

    with w.unit(531) as u:        # writes a fallback delta if the body raises
        u.emit(counters={"total_items": 2})

Every delta is validated before it is written (writer name, finite numbers, depth <= 64, a
fallback carries no operations...), so a delta this module writes is never quarantined. Its file is
named by its identity and content hash, ``frame-000530.py-1.0.<12 hex>.json``, written to a temp
name starting with ``.``, fsynced, and linked into place without ever replacing a file.

Run ``python3 framelog_writer.py --help`` for the demo.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import errno
import hashlib
import itertools
import json
import math
import os
import re
import sys
import threading
import uuid
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

__all__ = [
    "DeltaError",
    "Writer",
    "Written",
    "canonical_json",
    "content_hash",
    "delta_file_name",
    "utc_now",
    "validate_delta",
]

#: Deltas nest at most this many levels; the delta object itself is level 1 (PROTOCOL §1).
MAX_DEPTH = 64
#: maxDeltaBytes of a plan that does not say (PROTOCOL §6).
DEFAULT_MAX_DELTA_BYTES = 1 << 20
#: The largest integer every JSON parser (JavaScript's included) reads exactly.
MAX_SAFE_INTEGER = 2**53 - 1

_WRITER_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The same grammar as the store: RFC 3339 date-time, Z or +-HH:MM offset, up to 9 fraction digits.
_UTC_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))"
)
_RESERVED_NAMES = frozenset(("__proto__", "constructor", "prototype"))
_CORE_KEYS = ("frame", "writer", "stream_id", "writer_id", "utc", "seq", "status")
_OP_KEYS = ("items", "counters", "set", "events")
_WRITER_KEYS = ("writer", "stream_id", "writer_id")


class DeltaError(ValueError):
    """A delta breaks a protocol rule. ``field`` is a dotted path into the delta ('' for the whole)."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}" if field else rule)


# ---------------------------------------------------------------------------------------------
# Canonical JSON (RFC 8785 as JavaScript's JSON.stringify and the framelog store write it)
# ---------------------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# JSON.stringify escapes only these: '"', '\\', controls < 0x20 and lone surrogates.
_ESCAPE_RE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')


def _escape(match: "re.Match[str]") -> str:
    c = match.group()
    return _ESCAPES.get(c) or "\\u%04x" % ord(c)


def _js_string(s: str) -> str:
    return '"' + _ESCAPE_RE.sub(_escape, s) + '"'


def _utf16_key(k: str) -> bytes:
    # RFC 8785 sorts keys by UTF-16 code units; Python compares code points, which differs once
    # astral characters (surrogate pairs in UTF-16) meet U+E000..U+FFFF. Big-endian bytes compare
    # exactly as code units do.
    return k.encode("utf-16-be", "surrogatepass")


def _js_number(x: Any, path: str = "") -> str:
    """Formats a number as JavaScript's Number#toString does (ECMA-262 Number::toString)."""
    if isinstance(x, int):
        if -MAX_SAFE_INTEGER - 1 <= x <= MAX_SAFE_INTEGER + 1:
            return str(x)
        # A JSON parser reads a longer integer as the nearest double: canonicalise that double.
        try:
            x = float(x)
        except OverflowError:
            raise DeltaError(path, "non-finite number (an integer this large parses to Infinity)") from None
    if not math.isfinite(x):
        raise DeltaError(path, f"non-finite number {x!r}: JSON has no NaN or Infinity")
    if x == 0:
        return "0"  # -0 too, as JSON.stringify(-0)
    sign = "-" if x < 0 else ""
    # repr() gives the shortest digits that round-trip, as JavaScript does: only the layout differs.
    mantissa, _, exp = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    exponent = (int(exp) if exp else 0) - len(frac_part)  # value = digits * 10**exponent
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    e_str = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + e_str
    return sign + digits[0] + "." + digits[1:] + "e" + e_str


def _canon(value: Any, out: List[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_js_string(value))
    elif isinstance(value, (int, float)):
        out.append(_js_number(value, path))
    elif isinstance(value, Mapping):
        for k in value:
            if not isinstance(k, str):
                raise DeltaError(path, f"object key {k!r} is not a string")
        out.append("{")
        for i, k in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_js_string(k))
            out.append(":")
            _canon(value[k], out, f"{path}.{k}" if path else k)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _canon(v, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise DeltaError(path, f"{type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a value: keys sorted by UTF-16 code unit, no whitespace, numbers
    and strings exactly as JavaScript's ``JSON.stringify`` writes them (RFC 8785). Equal meaning
    gives equal text, whatever language computed it."""
    out: List[str] = []
    _canon(value, out, "")
    return "".join(out)


def content_hash(value: Any) -> str:
    """The content hash of a delta: SHA-256 (hex) of its canonical JSON in UTF-8."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Validation (PROTOCOL §1)
# ---------------------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_index(v: Any) -> bool:
    """An integer >= 0 that JavaScript reads exactly (integral floats such as 1.0 included)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        return False
    return 0 <= v <= MAX_SAFE_INTEGER


def is_writer_name(name: Any) -> bool:
    """1-128 characters of [A-Za-z0-9._-], not '.' or '..' (writer names become file names)."""
    return isinstance(name, str) and _WRITER_RE.fullmatch(name) is not None and name not in (".", "..")


def is_utc(text: Any) -> bool:
    """An RFC 3339 timestamp with Z or an offset, naming a day that exists."""
    if not isinstance(text, str):
        return False
    m = _UTC_RE.fullmatch(text)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _walk(v: Any, path: str, depth: int) -> None:
    """Every value is JSON, every number finite, strings valid Unicode, no __proto__ key, depth <= 64."""
    if v is None or isinstance(v, bool):
        return
    if isinstance(v, str):
        if _SURROGATE_RE.search(v):
            raise DeltaError(path, "string holds a lone surrogate: not valid Unicode, cannot be UTF-8")
        return
    if isinstance(v, (int, float)):
        _js_number(v, path)  # raises on NaN, Infinity and integers beyond the double range
        return
    if isinstance(v, Mapping) or isinstance(v, (list, tuple)):
        if depth > MAX_DEPTH:
            raise DeltaError(path, f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(v, Mapping):
            for k, item in v.items():
                sub = f"{path}.{k}" if path else str(k)
                if not isinstance(k, str):
                    raise DeltaError(sub, f"object key {k!r} is not a string")
                if k == "__proto__":
                    raise DeltaError(sub, "reserved key (prototype pollution guard)")
                _walk(k, sub, depth)
                _walk(item, sub, depth + 1)
        else:
            for i, item in enumerate(v):
                _walk(item, f"{path}[{i}]", depth + 1)
        return
    raise DeltaError(path, f"{type(v).__name__} is not a JSON value")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _check_name(field: str, name: str) -> None:
    if name == "":
        raise DeltaError(field, "empty name")
    if name in _RESERVED_NAMES:
        raise DeltaError(f"{field}.{name}", "reserved name (prototype pollution guard)")


def _check_items(field: str, arr: Any) -> None:
    if not isinstance(arr, (list, tuple)):
        raise DeltaError(field, "bad items: must be an array of objects")
    for i, item in enumerate(arr):
        if not isinstance(item, Mapping):
            raise DeltaError(f"{field}[{i}]", "bad items: every item must be a JSON object")


def _check_counters(field: str, v: Any) -> None:
    if not isinstance(v, Mapping):
        raise DeltaError(field, "bad counters: must be an object of name -> number")
    for name, n in v.items():
        _check_name(field, name)
        if not _is_number(n):
            raise DeltaError(f"{field}.{name}", f"bad counters: must be a finite number (got {n!r})")


def _check_entities(field: str, v: Any) -> None:
    if not isinstance(v, Mapping):
        raise DeltaError(field, "bad set: must be an object of id -> field -> value")
    for entity_id, fields in v.items():
        _check_name(field, entity_id)
        if not isinstance(fields, Mapping):
            raise DeltaError(f"{field}.{entity_id}", "bad set: an entity must be an object of field -> value")
        for name in fields:
            _check_name(f"{field}.{entity_id}", name)


def _check_events(field: str, v: Any) -> None:
    if not isinstance(v, (list, tuple)):
        raise DeltaError(field, "bad events: must be an array of objects")
    for i, e in enumerate(v):
        if not isinstance(e, Mapping):
            raise DeltaError(f"{field}[{i}]", "bad events: every event must be a JSON object")


def validate_delta(
    delta: Any,
    shape: Optional[Mapping[str, Any]] = None,
    max_bytes: Optional[int] = None,
) -> None:
    """Raises :class:`DeltaError` when ``delta`` breaks a rule of PROTOCOL §1: frame an integer
    >= 0, exactly one of writer/stream_id/writer_id with a valid name, utc RFC 3339, seq an integer
    >= 0, status ok|fallback (a fallback carries no operations, not even empty ones), the shapes of
    items/counters/set/events, names not reserved, every number finite, depth <= 64, and (given
    ``max_bytes``) at most that many bytes as this module writes it. ``shape`` is the plan's shape
    (extra top-level key -> rule); without it any other top-level key is an error."""
    shape = shape or {}
    if not isinstance(delta, Mapping):
        raise DeltaError("", "delta is not an object")
    _walk(delta, "", 1)
    if not _is_index(delta.get("frame")):
        raise DeltaError("frame", f"bad frame: must be an integer >= 0 (got {delta.get('frame')!r})")
    names = [k for k in _WRITER_KEYS if k in delta]
    if not names:
        raise DeltaError("writer", "bad writer: missing (also spelt stream_id or writer_id)")
    if len(names) > 1:
        raise DeltaError("/".join(names), "bad writer: give one of writer, stream_id, writer_id")
    if not is_writer_name(delta[names[0]]):
        raise DeltaError(
            names[0], f"bad writer: must be 1-128 chars of [A-Za-z0-9._-], not . or .. (got {delta[names[0]]!r})"
        )
    if not is_utc(delta.get("utc")):
        raise DeltaError("utc", f"utc is not an RFC 3339 timestamp (got {delta.get('utc')!r})")
    if "seq" in delta and not _is_index(delta["seq"]):
        raise DeltaError("seq", f"bad seq: must be an integer >= 0 (got {delta['seq']!r})")
    status = delta.get("status", "ok")
    if status not in ("ok", "fallback") or not isinstance(status, str):
        raise DeltaError("status", f'bad status: must be "ok" or "fallback" (got {status!r})')
    for key, v in delta.items():
        if key in _CORE_KEYS or key == "meta":
            continue
        if key in _OP_KEYS:
            rule: Any = key
        elif key in shape:
            rule = shape[key]
        else:
            raise DeltaError(key, f"unknown key {key} (map it in the plan's shape to merge it)")
        if rule == "meta":
            continue
        if status == "fallback":
            raise DeltaError(key, "fallback delta carries operations")
        if rule == "items":
            if not isinstance(v, Mapping):
                raise DeltaError(key, "bad items: must be an object of collection -> array of objects")
            for collection, arr in v.items():
                _check_name(key, collection)
                _check_items(f"{key}.{collection}", arr)
        elif rule == "set":
            if not isinstance(v, Mapping):
                raise DeltaError(key, "bad set: must be an object of type -> id -> field -> value")
            for entity_type, entities in v.items():
                _check_name(key, entity_type)
                _check_entities(f"{key}.{entity_type}", entities)
        elif rule == "counters":
            _check_counters(key, v)
        elif rule == "events":
            _check_events(key, v)
        elif isinstance(rule, Mapping) and "items" in rule:
            _check_items(key, v)
        elif isinstance(rule, Mapping) and "set" in rule:
            _check_entities(key, v)
        else:
            raise DeltaError(key, f"the plan's shape maps {key} to an unknown rule {rule!r}")
    if max_bytes is not None:
        size = len(canonical_json(delta).encode("utf-8"))
        if size > max_bytes:
            raise DeltaError("", f"delta is {size} bytes, over maxDeltaBytes ({max_bytes}): split the unit of work")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def utc_now() -> str:
    """Now as RFC 3339 in UTC with milliseconds and Z, e.g. 2026-04-19T14:30:22.120Z."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def delta_file_name(frame: int, writer: str, seq: int, sha256: str) -> str:
    """``frame-<frame, 6 digits at least>.<writer>.<seq>.<first 12 hex of the content hash>.json``."""
    return "frame-%06d.%s.%d.%s.json" % (int(frame), writer, int(seq), sha256[:12])


class Written(NamedTuple):
    """What :meth:`Writer.emit` or :meth:`Writer.fallback` wrote."""

    frame: int
    writer: str
    seq: int
    status: str
    sha256: str
    path: str
    #: False when the identical delta was already pending in the inbox (nothing new was written).
    created: bool

    def identity(self) -> Dict[str, Any]:
        return {"frame": self.frame, "writer": self.writer, "seq": self.seq, "sha256": self.sha256}


_temp_counter = itertools.count()
_temp_lock = threading.Lock()
# Where os.link is refused (some network and FAT filesystems) we fall back to os.replace: the final
# name embeds the content hash, so at worst it replaces an identical file.
_NO_LINK_ERRNOS = {getattr(errno, n) for n in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK") if hasattr(errno, n)}


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open a directory (Windows) make renames durable themselves
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


class Writer:
    """Writes deltas for one writer name into a framelog store's inbox.

    Thread-safe: threads may share one Writer (each emit gets its own seq and temp file) or have
    one each. Two Writer objects, threads or processes that emit for the same frame must not share
    a writer name unless they pass explicit seqs, or their (frame, writer, seq) identities collide.
    """

    def __init__(self, store_dir: Optional[str] = None, writer: str = "", *, fsync: bool = True) -> None:
        store_dir = store_dir or os.environ.get("FRAMELOG_DIR") or ".framelog"
        if not is_writer_name(writer):
            raise DeltaError("writer", f"bad writer: must be 1-128 chars of [A-Za-z0-9._-], not . or .. (got {writer!r})")
        plan_path = os.path.join(store_dir, "framelog.json")
        inbox = os.path.join(store_dir, "inbox")
        if not os.path.isfile(plan_path) and not os.path.isdir(inbox):
            raise FileNotFoundError(f"no framelog store at {store_dir}: create it with `framelog init --dir {store_dir}`")
        plan: Dict[str, Any] = {}
        if os.path.isfile(plan_path):
            with open(plan_path, encoding="utf-8") as f:
                plan = json.load(f)
        self.store_dir = store_dir
        self.inbox = inbox
        self.writer = writer
        self.max_delta_bytes = int(plan.get("maxDeltaBytes", DEFAULT_MAX_DELTA_BYTES))
        self.fsync = fsync
        os.makedirs(inbox, exist_ok=True)
        self._lock = threading.Lock()
        self._emits: Dict[int, int] = {}

    # -- public API ------------------------------------------------------------------------------

    def emit(
        self,
        frame: int,
        items: Optional[Mapping[str, Any]] = None,
        counters: Optional[Mapping[str, Any]] = None,
        set: Optional[Mapping[str, Any]] = None,  # noqa: A002 - the protocol's name
        events: Optional[List[Any]] = None,
        meta: Any = None,
        seq: Optional[int] = None,
        *,
        utc: Optional[str] = None,
    ) -> Written:
        """Validates and writes one delta for ``frame``. ``seq`` defaults to the number of earlier
        emits for that frame by this Writer object, so re-running the same units of work in the
        same order reuses the same identities (and redelivery is idempotent). Operations left as
        None are omitted; an empty one ({} or []) is kept. Raises :class:`DeltaError` on a broken
        rule: nothing is written."""
        delta = self._ok_delta(frame, {"items": items, "counters": counters, "set": set, "events": events}, meta, seq, utc)
        return self._write(delta, seq, count=True)

    def fallback(self, frame: int, seq: Optional[int] = None, meta: Any = None, *, utc: Optional[str] = None) -> Written:
        """Writes a fallback delta: this writer ran for ``frame`` but has nothing to contribute
        (crash, timeout, empty result). It carries no operations, claims no identity and does not
        use up a seq: the writer's real delta for the frame is still applied when it comes."""
        delta = self._head(frame, utc, seq, "fallback")
        if meta is not None:
            delta["meta"] = meta
        return self._write(delta, seq, count=False)

    def unit(self, frame: int, *, reraise: bool = True, meta: Any = None) -> "Unit":
        """A unit of work for ``frame``, as a context manager or a decorator: if the body raises an
        Exception, a fallback delta (meta: the error) is written, then the exception propagates
        (``reraise=False`` swallows it). Deltas the body emitted before raising stay written::

            with writer.unit(7) as u:
                u.emit(counters={"done": 1})
        """
        return Unit(self, frame, reraise=reraise, meta=meta)

    def forget(self, frame: int) -> None:
        """Drops the emit count kept for ``frame`` (long-running writers may call this once a
        frame is done; a later emit for it starts again at seq 0)."""
        with self._lock:
            self._emits.pop(frame, None)

    # -- internals -------------------------------------------------------------------------------

    def _ok_delta(self, frame: Any, ops: Mapping[str, Any], meta: Any, seq: Optional[int], utc: Optional[str]) -> Dict[str, Any]:
        """A delta with status ok: the head, the operations given (None ones left out), meta."""
        delta = self._head(frame, utc, seq, "ok")
        delta.update({k: v for k, v in ops.items() if v is not None})
        if meta is not None:
            delta["meta"] = meta
        return delta

    def _head(self, frame: Any, utc: Optional[str], seq: Optional[int], status: str) -> Dict[str, Any]:
        if isinstance(frame, float) and frame.is_integer():
            frame = int(frame)
        return {"frame": frame, "writer": self.writer, "utc": utc or utc_now(), "seq": 0 if seq is None else seq, "status": status}

    def batch(self) -> "Batch":
        """A batch of deltas written as one inbox file (``batch.<hash>.ndjson``, one delta per line;
        PROTOCOL v1.1 §3): one file and two fsyncs for the whole batch instead of two per delta.
        All or nothing: if the body raises, nothing is written::

            with writer.batch() as b:
                for task in tasks:
                    b.emit(7, counters={"done": 1})
        """
        return Batch(self)

    def _prepare(self, delta: Dict[str, Any], seq: Optional[int], count: bool) -> Tuple[Dict[str, Any], bytes, str]:
        """Validates ``delta``, gives it its seq, and returns it with its canonical bytes and hash."""
        validate_delta(delta)  # with a placeholder seq when none was given
        frame = delta["frame"]
        with self._lock:
            n = self._emits.get(frame, 0)
            if count:
                self._emits[frame] = n + 1
        if seq is None:
            delta["seq"] = n
        data = canonical_json(delta).encode("utf-8")
        if len(data) > self.max_delta_bytes:
            raise DeltaError("", f"delta is {len(data)} bytes, over maxDeltaBytes ({self.max_delta_bytes}): split the unit of work")
        return delta, data, hashlib.sha256(data).hexdigest()

    def _write(self, delta: Dict[str, Any], seq: Optional[int], count: bool) -> Written:
        delta, data, sha = self._prepare(delta, seq, count)
        name = delta_file_name(delta["frame"], self.writer, delta["seq"], sha)
        created = self._put(name, data, sha)
        return Written(delta["frame"], self.writer, delta["seq"], delta.get("status", "ok"), sha, os.path.join(self.inbox, name), created)

    def _temp_path(self) -> str:
        """A temp name in the inbox: starts with '.', so a merge never takes it; unique per process
        (pid, counter), thread and host (random)."""
        with _temp_lock:
            n = next(_temp_counter)
        return os.path.join(
            self.inbox, ".%s.%d.%d.%d.%s.tmp" % (self.writer, os.getpid(), threading.get_ident(), n, uuid.uuid4().hex)
        )

    def _put(self, name: str, data: bytes, sha: str) -> bool:
        """Writes ``data`` under ``inbox/name`` atomically, never replacing a file. The file holds
        the canonical JSON itself, so `sha256sum` of it is its content hash."""
        created = self._put_file(name, data)
        if not created:
            self._check_pending(os.path.join(self.inbox, name), sha)
        return created

    def _put_file(self, name: str, data: bytes) -> bool:
        """Temp name, fsync, link into place (never replacing a file), fsync of the inbox. False
        when a file of that name is already pending."""
        final = os.path.join(self.inbox, name)
        tmp = self._temp_path()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, final)
                created = True
            except FileExistsError:
                created = False
            except OSError as e:
                if e.errno not in _NO_LINK_ERRNOS:
                    raise
                created = not os.path.exists(final)
                os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if self.fsync and created:
            _fsync_dir(self.inbox)
        return created

    @staticmethod
    def _check_pending(path: str, sha: str) -> None:
        # Same name means same identity and same 48-bit hash prefix: almost surely the identical
        # delta, already pending. Make sure rather than silently dropping a different one.
        try:
            with open(path, "rb") as f:
                existing = f.read()
        except FileNotFoundError:
            return  # a merge took it meanwhile: it was the identical delta, now applied
        try:
            same = content_hash(json.loads(existing.decode("utf-8"))) == sha
        except (ValueError, DeltaError):
            same = False
        if not same:
            raise FileExistsError(errno.EEXIST, f"{path} exists with different content (hash prefix collision)")


class Batch:
    """See :meth:`Writer.batch`. ``emit`` and ``fallback`` validate at once (a bad delta raises
    there) and are written together when the ``with`` block ends (or at :meth:`commit`)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._pending: List[Tuple[Dict[str, Any], bytes, str]] = []
        self.written: List[Written] = []

    def emit(
        self,
        frame: int,
        items: Optional[Mapping[str, Any]] = None,
        counters: Optional[Mapping[str, Any]] = None,
        set: Optional[Mapping[str, Any]] = None,  # noqa: A002 - the protocol's name
        events: Optional[List[Any]] = None,
        meta: Any = None,
        seq: Optional[int] = None,
        *,
        utc: Optional[str] = None,
    ) -> None:
        delta = self.writer._ok_delta(frame, {"items": items, "counters": counters, "set": set, "events": events}, meta, seq, utc)
        self._pending.append(self.writer._prepare(delta, seq, count=True))

    def fallback(self, frame: int, seq: Optional[int] = None, meta: Any = None, *, utc: Optional[str] = None) -> None:
        delta = self.writer._head(frame, utc, seq, "fallback")
        if meta is not None:
            delta["meta"] = meta
        self._pending.append(self.writer._prepare(delta, seq, count=False))

    def commit(self) -> List[Written]:
        """Writes the batch file (nothing when the batch is empty) and returns what it holds."""
        if not self._pending:
            return []
        data = b"".join(d + b"\n" for _, d, _ in self._pending)
        name = "batch.%s.ndjson" % hashlib.sha256(data).hexdigest()[:24]
        created = self.writer._put_file(name, data)
        path = os.path.join(self.writer.inbox, name)
        self.written = [Written(d["frame"], d["writer"], d["seq"], d.get("status", "ok"), sha, path, created) for d, _, sha in self._pending]
        self._pending = []
        return self.written

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self._pending = []  # all or nothing
        return False


class Unit(contextlib.ContextDecorator):
    """See :meth:`Writer.unit`. ``emit`` and ``fallback`` write for the unit's frame; ``written``
    lists what was written, ``error`` is the exception the body raised (or None)."""

    def __init__(self, writer: Writer, frame: int, *, reraise: bool = True, meta: Any = None) -> None:
        self.writer = writer
        self.frame = frame
        self.reraise = reraise
        self.meta = meta
        self.written: List[Written] = []
        self.error: Optional[BaseException] = None

    def _recreate_cm(self) -> "Unit":
        # As a decorator, every call is a fresh unit (calls may run concurrently).
        return Unit(self.writer, self.frame, reraise=self.reraise, meta=self.meta)

    def emit(self, **ops: Any) -> Written:
        w = self.writer.emit(self.frame, **ops)
        self.written.append(w)
        return w

    def __enter__(self) -> "Unit":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is None or not issubclass(exc_type, Exception):
            return False
        self.error = exc
        message = f"{exc_type.__name__}: {exc}".encode("utf-8", "backslashreplace").decode("utf-8")
        meta: Dict[str, Any] = {"error": message[:1000]}
        if self.meta is not None:
            meta["unit"] = self.meta
        self.written.append(self.writer.fallback(self.frame, meta=meta))
        return not self.reraise


# ---------------------------------------------------------------------------------------------
# Demo and tools: python3 framelog_writer.py --help
# ---------------------------------------------------------------------------------------------

#: Values whose canonical form is easy to get wrong: astral keys, floats, escapes.
SAMPLE_META = {
    "\uff61": "U+FF61 sorts after the astral key in UTF-16",
    "\U0001f600": "U+1F600",
    "a": [1.0, 2.5, 1e21, 1e-7, 0.1, -0.0, 123456789.125, 2**60],
    "esc": "quote\" backslash\\ nl\n tab\t nul\x00 del\x7f ls\u2028 e\u0301",
}


def _demo_unit(u: Unit, writer: str, frame: int, thread: int, fail: bool, sample: bool) -> None:
    if fail:
        raise RuntimeError(f"simulated crash in frame {frame}, thread {thread}")
    meta: Dict[str, Any] = {"pid": os.getpid(), "thread": thread}
    if sample:
        meta["sample"] = SAMPLE_META
    u.emit(
        items={"tasks": [{"id": f"{writer}/{frame}/{thread}", "frame": frame, "thread": thread}]},
        counters={"units": 1, "frame_sum": frame, "half": 0.5},
        set={"threads": {f"{writer}/{thread}": {"last_frame": frame, "ok": True}}},
        events=[{"type": "unit-done", "writer": writer, "frame": frame, "thread": thread}],
        meta=meta,
    )


def run_demo(args: argparse.Namespace) -> List[Written]:
    """Each of ``threads`` threads runs one unit of work per frame. Per-thread writers are named
    ``<writer>-t<i>`` (one thread: ``<writer>``); with ``--share`` all threads share one Writer."""
    frames = range(args.start, args.start + args.frames)
    shared = Writer(args.dir, args.writer) if args.share else None
    results: List[Written] = []
    errors: List[BaseException] = []
    lock = threading.Lock()
    fail = set()
    for spec in args.fail or []:
        frame, _, thread = spec.partition(":")
        fail.add((int(frame), int(thread or 0)))

    def work(t: int) -> None:
        name = args.writer if args.share or args.threads == 1 else f"{args.writer}-t{t}"
        writer = shared or Writer(args.dir, name)
        for frame in frames:
            with writer.unit(frame, reraise=False, meta={"thread": t}) as u:
                _demo_unit(u, name, frame, t, (frame, t) in fail, args.sample_meta)
            with lock:
                results.extend(u.written)

    def guarded(t: int) -> None:
        try:
            work(t)
        except BaseException as e:  # re-raised in the main thread after join
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=guarded, args=(t,), name=f"framelog-writer-{t}") for t in range(args.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    results.sort(key=lambda w: (w.frame, w.writer, w.status != "ok", w.seq, w.sha256))
    return results


def _canonical_filter(stdin: Any, stdout: Any) -> None:
    """NDJSON in, one {"canonical", "sha256"} per line out: for cross-checking implementations."""
    for line in stdin:
        if not line.strip():
            continue
        text = canonical_json(json.loads(line))
        stdout.write(json.dumps({"canonical": text, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description="framelog writer demo: threads emit deltas into a store's inbox (then run `framelog merge`).",
    )
    p.add_argument("--dir", default=os.environ.get("FRAMELOG_DIR") or ".framelog", help="store directory (default $FRAMELOG_DIR or .framelog)")
    p.add_argument("--writer", default="py-1", help="writer name; per-thread writers add -t<i> (default py-1)")
    p.add_argument("--frames", type=int, default=5, help="frames to write (default 5)")
    p.add_argument("--start", type=int, default=1, help="first frame (default 1)")
    p.add_argument("--threads", type=int, default=1, help="worker threads (default 1)")
    p.add_argument("--share", action="store_true", help="all threads share one Writer named --writer")
    p.add_argument("--fail", action="append", metavar="FRAME[:THREAD]", help="make that unit raise, so a fallback delta is written (repeatable)")
    p.add_argument("--sample-meta", action="store_true", help="put hard-to-canonicalise values in meta")
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    p.add_argument("--canonical", action="store_true", help="read NDJSON on stdin, print canonical JSON and SHA-256 per line, and exit")
    args = p.parse_args(argv)
    if args.canonical:
        _canonical_filter(sys.stdin, sys.stdout)
        return 0
    if args.frames < 0 or args.threads < 1 or args.start < 0:
        p.error("--frames must be >= 0, --threads >= 1, --start >= 0")
    try:
        written = run_demo(args)
    except (DeltaError, OSError) as e:
        print(f"framelog_writer: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"deltas": [dict(w._asdict()) for w in written]}, ensure_ascii=True))
    else:
        for w in written:
            print(f"{w.status:8} {os.path.basename(w.path)}{'' if w.created else '  (already pending)'}")
        ok = sum(1 for w in written if w.status == "ok")
        print(f"{ok} deltas and {len(written) - ok} fallback deltas in {os.path.join(args.dir, 'inbox')}; now run: framelog merge --dir {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
