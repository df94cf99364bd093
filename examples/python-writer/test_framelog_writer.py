"""Self-test of framelog_writer (standard library only).

    python3 -m unittest examples/python-writer/test_framelog_writer.py
"""

import glob
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import framelog_writer as fw  # noqa: E402
from framelog_writer import DeltaError, Writer, canonical_json, content_hash, delta_file_name, validate_delta  # noqa: E402

UTC = "2026-04-19T14:30:01.000Z"
NAME_RE = re.compile(r"^frame-(\d{6,})\.([A-Za-z0-9._-]{1,128})\.(\d+)\.([0-9a-f]{12})\.json$")


def make_store(test: unittest.TestCase) -> str:
    tmp = tempfile.TemporaryDirectory()
    test.addCleanup(tmp.cleanup)
    store = os.path.join(tmp.name, "store")
    os.makedirs(os.path.join(store, "inbox"))
    with open(os.path.join(store, "framelog.json"), "w") as f:
        json.dump({"version": 1, "maxDeltaBytes": 4096}, f)
    return store


def inbox_files(store: str):
    return sorted(os.listdir(os.path.join(store, "inbox")))


def read_json(*parts: str):
    with open(os.path.join(*parts), "rb") as f:
        return json.loads(f.read())


class CanonicalJsonTest(unittest.TestCase):
    def test_known_vectors(self):
        vectors = [
            ({"b": 1, "a": [1.0, 2.5, "é", {"z": None}]}, '{"a":[1,2.5,"é",{"z":null}],"b":1}'),
            ({}, "{}"),
            ([], "[]"),
            ([True, False, None], "[true,false,null]"),
            ({"a": {"c": 1, "b": [{"y": 1, "x": 2}]}}, '{"a":{"b":[{"x":2,"y":1}],"c":1}}'),
            # keys sort by UTF-16 code unit: U+1F600 is D83D DE00, before U+FF61 (code points say after)
            ({"\uff61": 1, "\U0001f600": 2, "z": 3, "é": 4, "A": 5}, '{"A":5,"z":3,"é":4,"\U0001f600":2,"\uff61":1}'),
            ({"aa": 1, "a": 2, "": 3}, '{"":3,"a":2,"aa":1}'),
        ]
        for value, want in vectors:
            with self.subTest(value=value):
                self.assertEqual(canonical_json(value), want)

    def test_utf16_order_differs_from_code_point_order(self):
        keys = ["\uff61", "\U0001f600"]
        self.assertEqual(sorted(keys), ["\uff61", "\U0001f600"])  # Python's own order
        self.assertEqual(canonical_json(dict.fromkeys(keys, 0)), '{"\U0001f600":0,"\uff61":0}')

    def test_numbers_as_javascript_writes_them(self):
        vectors = [
            (0, "0"), (-0.0, "0"), (0.0, "0"), (1.0, "1"), (-1.0, "-1"), (100.0, "100"), (2.5, "2.5"),
            (0.1, "0.1"), (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (1.5e21, "1.5e+21"), (1e-7, "1e-7"), (1.234e-7, "1.234e-7"), (1e-6, "0.000001"),
            (0.000001234, "0.000001234"), (123456789.125, "123456789.125"), (12345678.9, "12345678.9"),
            (1e16, "10000000000000000"), (123456789012345680000.0, "123456789012345680000"),
            (5e-324, "5e-324"), (-5e-324, "-5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2**53, "9007199254740992"), (-(2**53), "-9007199254740992"),
            (2**53 + 1, "9007199254740992"),  # a JSON parser reads the nearest double
            (2**60, "1152921504606847000"), (10**21, "1e+21"), (-1.5e-10, "-1.5e-10"),
        ]
        for x, want in vectors:
            with self.subTest(x=x):
                self.assertEqual(canonical_json(x), want)

    def test_strings_escaped_as_json_stringify(self):
        vectors = [
            ('"', '"\\""'), ("\\", '"\\\\"'), ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
            ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'), ("\x1b", '"\\u001b"'),
            ("\x7f", '"\x7f"'), ("\u2028\u2029", '"\u2028\u2029"'), ("é€\U0001f600", '"é€\U0001f600"'),
            ("/", '"/"'), ("<script>", '"<script>"'),
            ("\ud800", '"\\ud800"'),  # lone surrogate, as JSON.stringify escapes it
        ]
        for s, want in vectors:
            with self.subTest(s=s):
                self.assertEqual(canonical_json(s), want)

    def test_content_hash_matches_node(self):
        # sha256 of the canonical JSON, as computed by Node (node:crypto over the JS canonical form)
        self.assertEqual(
            content_hash({"b": 1, "a": [1.0, 2.5, "é", {"z": None}]}),
            "126ddf84edf83a6c8f569956e91a5c3e51512776e6355ea769f08855d705682b",
        )
        self.assertEqual(content_hash(fw.SAMPLE_META), "3578617566289ea097ff12ba942a0d546ad09ca51f93ae09bd84f4c0498e096e")

    def test_refuses_non_json(self):
        for bad in [math.nan, math.inf, -math.inf, 10**400, {1: 2}, {"a": {1, 2}}, object()]:
            with self.subTest(bad=bad):
                with self.assertRaises(DeltaError):
                    canonical_json(bad)

    def test_matches_json_dumps_for_plain_values(self):
        value = {"k": ["x\ny", 3, -7, True, None, {"q": "\u00e9\x01"}]}
        self.assertEqual(canonical_json(value), json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


class FileNameTest(unittest.TestCase):
    def test_name(self):
        sha = "a1b2c3d4e5f6" + "0" * 52
        self.assertEqual(delta_file_name(530, "worker-3", 0, sha), "frame-000530.worker-3.0.a1b2c3d4e5f6.json")
        self.assertEqual(delta_file_name(0, "w", 12, sha), "frame-000000.w.12.a1b2c3d4e5f6.json")
        self.assertEqual(delta_file_name(1234567, "a.b_c", 1, sha), "frame-1234567.a.b_c.1.a1b2c3d4e5f6.json")

    def test_written_name_matches_content(self):
        store = make_store(self)
        w = Writer(store, "worker-3").emit(530, counters={"n": 1}, utc=UTC)
        name = os.path.basename(w.path)
        m = NAME_RE.match(name)
        self.assertIsNotNone(m, name)
        self.assertEqual(m.group(1), "000530")
        self.assertEqual(m.group(2), "worker-3")
        self.assertEqual(m.group(3), "0")
        with open(w.path, "rb") as f:
            data = f.read()
        # the file holds the canonical JSON itself: sha256 of the file is the content hash
        self.assertEqual(hashlib.sha256(data).hexdigest(), w.sha256)
        self.assertEqual(content_hash(json.loads(data)), w.sha256)
        self.assertEqual(m.group(4), w.sha256[:12])
        self.assertEqual(
            json.loads(data),
            {"frame": 530, "writer": "worker-3", "utc": UTC, "seq": 0, "status": "ok", "counters": {"n": 1}},
        )


class BatchTest(unittest.TestCase):
    def test_one_file_one_canonical_delta_per_line(self):
        store = make_store(self)
        w = Writer(store, "w1")
        with w.batch() as b:
            b.emit(5, counters={"n": 1}, utc=UTC)
            b.emit(5, counters={"n": 2}, utc=UTC)
            b.fallback(6, utc=UTC)
        names = [n for n in os.listdir(os.path.join(store, "inbox")) if not n.startswith(".")]
        self.assertEqual(len(names), 1)
        self.assertRegex(names[0], r"^batch\.[0-9a-f]{24}\.ndjson$")
        with open(os.path.join(store, "inbox", names[0]), "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual([json.loads(x)["seq"] for x in lines[:-1]], [0, 1, 0])
        for line, written in zip(lines[:-1], b.written):
            self.assertEqual(hashlib.sha256(line).hexdigest(), written.sha256)
            self.assertEqual(content_hash(json.loads(line)), written.sha256)
        self.assertEqual([x.status for x in b.written], ["ok", "ok", "fallback"])

    def test_all_or_nothing(self):
        store = make_store(self)
        w = Writer(store, "w1")
        with self.assertRaises(RuntimeError):
            with w.batch() as b:
                b.emit(1, counters={"n": 1}, utc=UTC)
                raise RuntimeError("unit failed")
        self.assertEqual([n for n in os.listdir(os.path.join(store, "inbox")) if not n.startswith(".")], [])
        with self.assertRaises(DeltaError):
            w.batch().emit(1, counters={"n": float("nan")}, utc=UTC)


class ValidationTest(unittest.TestCase):
    def delta(self, **kw):
        d = {"frame": 1, "writer": "w1", "utc": UTC}
        d.update(kw)
        return {k: v for k, v in d.items() if v is not Ellipsis}

    def assertRefused(self, delta, field=None, **kw):
        with self.assertRaises(DeltaError) as cm:
            validate_delta(delta, **kw)
        if field is not None:
            self.assertEqual(cm.exception.field, field, str(cm.exception))
        return cm.exception

    def test_accepts_the_protocol_example(self):
        validate_delta({
            "frame": 530, "writer": "worker-3", "utc": "2026-04-19T14:30:22.120Z", "seq": 0, "status": "ok",
            "items": {"posts": [{"id": 6201, "title": "..."}]},
            "counters": {"total_items": 1, "total_comments": 1},
            "set": {"agents": {"42": {"status": "idle", "load": 0.3}}},
            "events": [{"type": "migration", "from": "north", "to": "south", "id": "f-17", "cost": 3}],
            "meta": {"model": "...", "tokens": 1234},
        })
        validate_delta(self.delta(writer=..., stream_id="w1"))
        validate_delta(self.delta(writer=..., writer_id="w1"))
        validate_delta(self.delta(status="fallback", meta={"error": "x"}))
        validate_delta(self.delta(frame=1.0))
        validate_delta(self.delta(utc="2026-04-19T16:30:00.5+02:00"))
        validate_delta(self.delta(utc="2016-12-31t23:59:60z"))
        validate_delta(self.delta(items={"p": []}, counters={}, set={"a": {"1": {}}}, events=[]))

    def test_writer_names(self):
        for bad in ["", ".", "..", "../../etc", "a/b", "a b", "x" * 129, "wé", "w\n", None, 3]:
            with self.subTest(writer=bad):
                self.assertRefused(self.delta(writer=bad), "writer")
        for good in ["...", "a", "x" * 128, "worker-3.A_b"]:
            validate_delta(self.delta(writer=good))
        self.assertRefused(self.delta(writer=...), "writer")
        self.assertRefused(self.delta(stream_id="w2"), "writer/stream_id")

    def test_frame_seq_status(self):
        for bad in [-1, 1.5, "1", None, True, 2**53, math.nan]:
            with self.subTest(frame=bad):
                self.assertRefused(self.delta(frame=bad))
        self.assertRefused(self.delta(frame=...), "frame")
        for bad in [-1, 0.5, "0", False]:
            with self.subTest(seq=bad):
                self.assertRefused(self.delta(seq=bad), "seq")
        self.assertRefused(self.delta(status="done"), "status")

    def test_utc(self):
        for bad in ["yesterday", "2026-04-19T14:30:01", "2026-04-19 14:30:01Z", "2026-02-30T00:00:00Z",
                    "2026-04-19T24:00:00Z", "2026-04-19T14:30:01+0200", "2026-04-19T14:30:01.1234567890Z",
                    "2026-04-19T14:30:01+24:00", "٢٠٢٦-04-19T14:30:01Z", 1713537001, ...]:
            with self.subTest(utc=bad):
                self.assertRefused(self.delta(utc=bad), "utc")

    def test_numbers_must_be_finite(self):
        self.assertRefused(self.delta(counters={"n": math.nan}), "counters.n")
        self.assertRefused(self.delta(counters={"n": math.inf}), "counters.n")
        self.assertRefused(self.delta(meta={"deep": [{"x": -math.inf}]}), "meta.deep[0].x")
        self.assertRefused(self.delta(set={"t": {"1": {"f": 10**400}}}), "set.t.1.f")

    def test_depth(self):
        nested = "leaf"
        for _ in range(63):  # with the delta object: 64 levels
            nested = [nested]
        validate_delta(self.delta(meta=nested))
        self.assertRefused(self.delta(meta=[nested]))
        cyclic = {}
        cyclic["self"] = cyclic
        self.assertRefused(self.delta(meta=cyclic))

    def test_fallback_carries_no_operations(self):
        for key, empty in [("items", {}), ("counters", {}), ("set", {}), ("events", []), ("counters", {"ok": 1})]:
            with self.subTest(key=key):
                self.assertRefused(self.delta(status="fallback", **{key: empty}), key)
        shape = {"counter_increments": "counters", "notes": "meta"}
        self.assertRefused(self.delta(status="fallback", counter_increments={}), "counter_increments", shape=shape)
        validate_delta(self.delta(status="fallback", notes="x"), shape=shape)

    def test_operation_shapes(self):
        self.assertRefused(self.delta(items=[]), "items")
        self.assertRefused(self.delta(items={"p": {"id": 1}}), "items.p")
        self.assertRefused(self.delta(items={"p": [1]}), "items.p[0]")
        self.assertRefused(self.delta(counters={"n": "1"}), "counters.n")
        self.assertRefused(self.delta(counters={"n": True}), "counters.n")
        self.assertRefused(self.delta(set={"t": {"1": 5}}), "set.t.1")
        self.assertRefused(self.delta(set={"t": []}), "set.t")
        self.assertRefused(self.delta(events={"type": "x"}), "events")
        self.assertRefused(self.delta(events=["x"]), "events[0]")
        self.assertRefused(self.delta(verdict="pass"), "verdict")
        self.assertRefused([1, 2, 3], "")

    def test_reserved_and_odd_names(self):
        self.assertRefused(self.delta(counters={"constructor": 1}), "counters.constructor")
        self.assertRefused(self.delta(items={"prototype": []}), "items.prototype")
        self.assertRefused(self.delta(set={"t": {"__proto__": {}}}))
        self.assertRefused(self.delta(set={"t": {"1": {"constructor": 1}}}), "set.t.1.constructor")
        self.assertRefused(self.delta(counters={"": 1}), "counters")
        self.assertRefused(self.delta(meta={"a": {"__proto__": 1}}), "meta.a.__proto__")
        self.assertRefused(self.delta(meta={1: "x"}))
        self.assertRefused(self.delta(meta="lone \ud800 surrogate"), "meta")
        validate_delta(self.delta(meta={"constructor": 1}))  # only map keys of the merge are reserved

    def test_shape(self):
        shape = {"items_created": {"items": "posts"}, "counter_increments": "counters", "agent_updates": {"set": "agents"}}
        validate_delta(self.delta(writer=..., stream_id="w", items_created=[{"id": 1}], counter_increments={"n": 1},
                                  agent_updates={"1": {"s": "x"}}), shape=shape)
        self.assertRefused(self.delta(counter_increments={"n": "x"}), "counter_increments.n", shape=shape)
        self.assertRefused(self.delta(items_created=[3]), "items_created[0]", shape=shape)

    def test_size(self):
        self.assertRefused(self.delta(meta="x" * 100), "", max_bytes=100)
        validate_delta(self.delta(meta="x" * 10), max_bytes=1000)

    def test_writer_refuses_and_writes_nothing(self):
        store = make_store(self)
        w = Writer(store, "w1")
        with self.assertRaises(DeltaError):
            w.emit(1, counters={"n": math.nan})
        with self.assertRaises(DeltaError):
            w.emit(-1, counters={"n": 1})
        with self.assertRaises(DeltaError):
            w.emit(1, meta="x" * 5000)  # over the store's maxDeltaBytes (4096)
        with self.assertRaises(DeltaError):
            w.emit(1, utc="yesterday")
        self.assertEqual(inbox_files(store), [])
        with self.assertRaises(DeltaError):
            Writer(store, "../etc")
        with self.assertRaises(FileNotFoundError):
            Writer(os.path.join(store, "nope"), "w1")


class WriterTest(unittest.TestCase):
    def test_seq_counts_emits_per_frame(self):
        store = make_store(self)
        w = Writer(store, "w1")
        seqs = [w.emit(f, counters={"n": 1}).seq for f in (1, 1, 2, 1, 2)]
        self.assertEqual(seqs, [0, 1, 0, 2, 1])
        self.assertEqual(w.emit(1, counters={"n": 1}, seq=7).seq, 7)
        self.assertEqual(w.fallback(3).seq, 0)
        self.assertEqual(w.emit(3, counters={"n": 1}).seq, 0)  # a fallback uses up no seq
        # a re-run of the same units in order reuses the same identities
        again = Writer(store, "w1")
        self.assertEqual([again.emit(f, counters={"n": 1}).seq for f in (1, 1, 2)], [0, 1, 0])

    def test_identical_delta_already_pending(self):
        store = make_store(self)
        a = Writer(store, "w1").emit(5, counters={"n": 1}, utc=UTC)
        b = Writer(store, "w1").emit(5, counters={"n": 1}, utc=UTC)
        self.assertTrue(a.created)
        self.assertFalse(b.created)
        self.assertEqual((a.path, a.sha256), (b.path, b.sha256))
        self.assertEqual(len(inbox_files(store)), 1)

    def test_never_replaces_a_different_file(self):
        store = make_store(self)
        a = Writer(store, "w1").emit(5, counters={"n": 1}, utc=UTC)
        with open(a.path, "w") as f:
            f.write('{"tampered": true}')
        with self.assertRaises(FileExistsError):
            Writer(store, "w1").emit(5, counters={"n": 1}, utc=UTC)
        with open(a.path) as f:
            self.assertEqual(f.read(), '{"tampered": true}')
        self.assertEqual(len(inbox_files(store)), 1)  # no temp file left behind

    def test_unit_writes_fallback_when_body_raises(self):
        store = make_store(self)
        w = Writer(store, "w1")
        with self.assertRaises(RuntimeError):
            with w.unit(4) as u:
                raise RuntimeError("boom")
        self.assertIsInstance(u.error, RuntimeError)
        [fb] = u.written
        self.assertEqual(fb.status, "fallback")
        d = read_json(fb.path)
        self.assertEqual(d["status"], "fallback")
        self.assertEqual(d["meta"], {"error": "RuntimeError: boom"})
        self.assertFalse(set(d) & {"items", "counters", "set", "events"})
        validate_delta(d)

        with w.unit(5, reraise=False) as u2:
            u2.emit(counters={"n": 1})
            raise ValueError("after an emit")
        self.assertEqual([x.status for x in u2.written], ["ok", "fallback"])

        with w.unit(6) as u3:
            u3.emit(counters={"n": 1})
        self.assertEqual([x.status for x in u3.written], ["ok"])

    def test_unit_as_decorator(self):
        store = make_store(self)
        w = Writer(store, "w1")

        @w.unit(9, reraise=False)
        def work(fail):
            if fail:
                raise KeyError("x")
            w.emit(9, counters={"n": 1})

        work(False)
        work(True)
        statuses = sorted(read_json(store, "inbox", n)["status"] for n in inbox_files(store))
        self.assertEqual(statuses, ["fallback", "ok"])

    def test_threads_share_one_writer(self):
        store = make_store(self)
        temps = []
        lock = threading.Lock()

        class Recording(Writer):
            def _temp_path(self):
                p = super()._temp_path()
                with lock:
                    temps.append(p)
                return p

        w = Recording(store, "shared")
        n_threads, per_thread, frames = 8, 25, 5
        barrier = threading.Barrier(n_threads)
        errors = []

        def work(t):
            try:
                barrier.wait()
                for i in range(per_thread):
                    w.emit(i % frames, counters={"n": 1}, items={"x": [{"id": f"{t}-{i}"}]}, meta={"t": t})
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(temps), n_threads * per_thread)
        self.assertEqual(len(set(temps)), len(temps), "temp names collided")
        self.assertTrue(all(os.path.basename(p).startswith(".") for p in temps))
        names = inbox_files(store)
        self.assertEqual(len(names), n_threads * per_thread)
        idents = set()
        for name in names:
            m = NAME_RE.match(name)
            self.assertIsNotNone(m, name)
            with open(os.path.join(store, "inbox", name), "rb") as f:
                d = json.loads(f.read())
            validate_delta(d)
            self.assertEqual(content_hash(d)[:12], m.group(4))
            idents.add((d["frame"], d["writer"], d["seq"]))
        self.assertEqual(len(idents), len(names), "identities collided")
        for frame in range(frames):
            seqs = sorted(s for (f, _, s) in idents if f == frame)
            self.assertEqual(seqs, list(range(n_threads * per_thread // frames)))

    def test_threads_with_a_writer_each(self):
        store = make_store(self)
        errors = []

        def work(t):
            try:
                w = Writer(store, f"own-{t}")
                for frame in range(10):
                    with w.unit(frame, reraise=False) as u:
                        if frame == 3 and t == 0:
                            raise RuntimeError("crash")
                        u.emit(counters={"n": 1})
            except BaseException as e:  # pragma: no cover
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        deltas = [read_json(store, "inbox", n) for n in inbox_files(store)]
        self.assertEqual(len(deltas), 60)
        self.assertEqual(sum(d.get("counters", {}).get("n", 0) for d in deltas), 59)
        self.assertEqual([d["writer"] for d in deltas if d["status"] == "fallback"], ["own-0"])
        self.assertEqual(glob.glob(os.path.join(store, "inbox", ".*")), [])


class DemoTest(unittest.TestCase):
    def test_demo_json_output(self):
        store = make_store(self)
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = fw.main(["--dir", store, "--writer", "py", "--frames", "3", "--threads", "2", "--fail", "2:1", "--sample-meta", "--json"])
        self.assertEqual(rc, 0)
        deltas = json.loads(out.getvalue())["deltas"]
        self.assertEqual(len(deltas), 6)
        self.assertEqual([(d["frame"], d["writer"]) for d in deltas if d["status"] == "fallback"], [(2, "py-t1")])
        for d in deltas:
            with open(d["path"], "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), d["sha256"])

    def test_canonical_filter(self):
        import io

        out = io.StringIO()
        fw._canonical_filter(io.StringIO('{"b":1,"a":[1.0,2.5,"\\u00e9",{"z":null}]}\n\n[1e21]\n'), out)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual([x["canonical"] for x in lines], ['{"a":[1,2.5,"é",{"z":null}],"b":1}', "[1e+21]"])
        self.assertEqual(lines[0]["sha256"], "126ddf84edf83a6c8f569956e91a5c3e51512776e6355ea769f08855d705682b")


if __name__ == "__main__":
    unittest.main()
