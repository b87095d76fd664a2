"""The symbolic pickle machine: values, imports, calls, offsets, errors, bounds.

Nothing here unpickles: expected values come from the objects we pickled ourselves.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.parsers.pickle_machine import (
    Build,
    Call,
    ComputedGlobal,
    Cycle,
    Ext,
    Global,
    PersistentId,
    simulate,
)

PLAIN = {
    "a": 1,
    "b": [1.5, "x", None, True, False],
    "c": (1, 2, (3,)),
    "d": b"\x00\x01bytes",
    "e": -(2**70),
    "f": {"nested": {"k": [0.25]}},
    "g": "ünïcode ✓",
    "h": 2**31 + 7,
    "i": -1,
    "j": 65535,
    "k": (),
    "l": [],
}


def _str(s: str) -> bytes:
    b = s.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(b)) + b


def _glob(mod: str, name: str) -> bytes:
    return pickle.GLOBAL + mod.encode() + b"\n" + name.encode() + b"\n"


@pytest.mark.parametrize("proto", range(6))
def test_plain_values_round_trip_every_protocol(proto: int) -> None:
    # protocols 0-2 have no bytes opcode: bytes become a _codecs.encode call there
    obj = PLAIN if proto >= 3 else {k: v for k, v in PLAIN.items() if k != "d"}
    data = pickle.dumps(obj, protocol=proto)
    t = simulate(data, file="x.pkl")
    assert t.error is None
    assert t.calls == ()
    assert t.value == (obj,)
    assert t.streams[0].complete and t.streams[0].protocol == (proto if proto >= 2 else 0)
    assert t.streams[0].end == len(data)


def test_bytes_in_old_protocols_are_codecs_encode_calls() -> None:
    t = simulate(pickle.dumps(b"ab", protocol=2), file="x")
    assert t.value[0] == Call(Global("_codecs", "encode"), ("ab", "latin1"))


@pytest.mark.parametrize("proto", [4, 5])
def test_sets_and_frozensets(proto: int) -> None:
    obj = [{1, 2, 3}, frozenset({"a"})]
    t = simulate(pickle.dumps(obj, protocol=proto), file="x")
    assert t.error is None
    assert t.value[0][0] == frozenset({1, 2, 3})
    assert t.value[0][1] == frozenset({"a"})


def test_shared_reference_and_cycle_are_bounded() -> None:
    inner = [1]
    outer = [inner, inner]
    outer.append(outer)
    t = simulate(pickle.dumps(outer, protocol=2), file="x")
    v = t.value[0]
    assert v[0] == [1] and v[1] is v[0]
    assert isinstance(v[2], Cycle)


def test_ordereddict_is_a_call_filled_by_setitems() -> None:
    t = simulate(pickle.dumps(OrderedDict(w=[1], b=[2]), protocol=2), file="x")
    v = t.value[0]
    assert isinstance(v, Call)
    assert v.func == Global("collections", "OrderedDict")
    assert dict(v.dictitems) == {"w": [1], "b": [2]}
    assert [c.target for c in t.calls if c.kind == "call"] == ["collections.OrderedDict"]


def test_reduce_records_offset_opcode_and_arg_shape() -> None:
    body = _glob("os", "system") + pickle.MARK + _str("true") + pickle.TUPLE + pickle.REDUCE
    data = pickle.PROTO + b"\x02" + body + pickle.STOP
    t = simulate(data, file="x", base_offset=100)
    imp, call = t.calls
    assert imp.kind == "import" and imp.offset == 102 and imp.opcode == "GLOBAL"
    assert call.kind == "call" and call.opcode == "REDUCE" and call.target == "os.system"
    assert call.offset == 100 + data.index(pickle.REDUCE, 5)
    assert call.args == ("true",) and call.arg_shape == ("str[4]",)
    assert t.value == (Call(Global("os", "system"), ("true",)),)


def test_protocol0_import_fixing_maps_python2_names() -> None:
    data = b"c__builtin__\neval\n(Vx\ntR."
    t = simulate(data, file="x")
    g = t.globals[0]
    assert (g.module, g.name) == ("builtins", "eval")
    assert g.written_as == ("__builtin__", "eval")
    # protocol 3+ streams are not renamed, as the real unpickler does
    t3 = simulate(b"\x80\x03c__builtin__\neval\n.", file="x")
    assert t3.globals[0].module == "__builtin__"


def test_inst_and_obj_are_calls() -> None:
    inst = b"(Vcode\nibuiltins\nexec\n."
    t = simulate(inst, file="x")
    assert [c.target for c in t.calls if c.kind == "call"] == ["builtins.exec"]
    assert t.value[0] == Call(Global("builtins", "exec"), ("code",), how="inst")
    obj = b"\x80\x02(" + _glob("builtins", "exec") + _str("code") + b"o."
    t = simulate(obj, file="x")
    assert t.value[0] == Call(Global("builtins", "exec"), ("code",), how="obj")


def test_newobj_and_newobj_ex() -> None:
    class K:
        def __init__(self, *a, **kw):
            self.a = a

        def __getnewargs_ex__(self):
            return (1,), {"k": 2}

    # pickle.dumps of a local class fails; build the opcodes by hand instead
    data = b"\x80\x04" + _glob("m", "K") + b"K\x01\x85}(Vk\nK\x02u" + b"\x92."
    t = simulate(data, file="x")
    assert t.error is None
    assert t.value[0] == Call(Global("m", "K"), (1,), {"k": 2}, how="newobj_ex")
    data = b"\x80\x02" + _glob("m", "K") + b")\x81."
    assert simulate(data, file="x").value[0] == Call(Global("m", "K"), (), how="newobj")


def test_stack_global_with_memo_and_computed_names() -> None:
    data = (
        b"\x80\x04"
        + _str("os")
        + b"\x94"
        + _str("system")
        + b"\x94"
        + b"00"
        + b"h\x00h\x01\x93(Vtrue\ntR."
    )
    t = simulate(data, file="x")
    assert t.globals[0].dotted == "os.system" and t.globals[0].opcode == "STACK_GLOBAL"
    # names that are results of calls are known only at load time
    comp = b"\x80\x04" + _glob("m", "f") + b")R" + _glob("m", "g") + b")R" + b"\x93)R."
    t = simulate(comp, file="x")
    assert t.error is None
    g = t.globals[-1]
    assert g.module is None and isinstance(g.computed, ComputedGlobal)
    assert t.calls[-1].target is None and isinstance(t.calls[-1].func, ComputedGlobal)


def test_stack_global_with_bytes_operand_errors_after_damage() -> None:
    body = _glob("os", "system") + b"(Vtrue\ntR0" + b"C\x02os" + _str("system") + b"\x93."
    t = simulate(b"\x80\x04" + body, file="x")
    assert "STACK_GLOBAL requires str" in t.error.message
    assert "os.system" in [c.target for c in t.calls if c.kind == "call"]
    assert t.streams[0].complete is False


def test_ext_codes_unknown_unless_registered_in_stream() -> None:
    t = simulate(b"\x80\x02\x82\x05)R.", file="x")
    assert t.value[0] == Call(Ext(5), ())
    assert t.globals[0].opcode == "EXT1" and t.globals[0].module is None
    reg = (
        b"\x80\x02"
        + _glob("copyreg", "add_extension")
        + b"(Vos\nVsystem\nK\xf1tR0"
        + b"\x82\xf1(Vtrue\ntR."
    )
    t = simulate(reg, file="x")
    assert t.value[0] == Call(Global("os", "system"), ("true",))
    assert [g.opcode for g in t.globals] == ["GLOBAL", "EXT1"]
    for op, arg in ((b"\x83", struct.pack("<H", 300)), (b"\x84", struct.pack("<i", 70000))):
        t = simulate(b"\x80\x02" + op + arg + b".", file="x")
        assert isinstance(t.value[0], Ext)


def test_persistent_ids_text_and_binary() -> None:
    t = simulate(b"Pkey1\n.", file="x")
    assert t.value[0] == PersistentId("key1")
    t = simulate(b"\x80\x02(Vstorage\nK\x01tQ.", file="x")
    assert t.value[0] == PersistentId(("storage", 1))


def test_build_records_setstate_call() -> None:
    data = b"\x80\x02" + _glob("m", "C") + b")R}Vk\nK\x01sb."
    t = simulate(data, file="x")
    assert t.value[0] == Build(Call(Global("m", "C"), ()), {"k": 1})
    assert [c.kind for c in t.calls] == ["import", "call", "build"]
    assert t.calls[-1].target is None  # a call result: no static name
    # SETITEM on a module-level object (os.environ-like) is a method call on that global
    data = b"\x80\x02" + _glob("os", "environ") + b"Vk\nVv\ns."
    t = simulate(data, file="x")
    assert t.calls[-1].kind == "method" and t.calls[-1].target == "os.environ.__setitem__"


def test_several_streams_and_trailing_data() -> None:
    first = pickle.dumps(["a"], protocol=2)
    second = b"\x80\x02" + _glob("os", "system") + b"(Vtrue\ntR."
    t = simulate(first + second, file="x")
    assert len(t.streams) == 2 and t.value[0] == ["a"]
    assert t.calls[0].stream == 1 and t.calls[0].offset == len(first) + 2
    t = simulate(first + b"\x00\x00\x00raw tensor bytes", file="x")
    assert t.error is None and t.trailing == len(first)
    t = simulate(first + second, file="x", max_streams=1)
    assert len(t.streams) == 1 and t.calls == ()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", None),
        (b"\x80\x02", "truncated"),
        (b"\x80\x02X\xff\xff\xff\x7fabc", "truncated"),
        (b"\x80\x02\x8d" + struct.pack("<Q", 2**63) + b".", "truncated"),
        (b"\x80\x02t.", "MARK"),
        (b"\x80\x020.", "MARK"),
        (b"\x80\x02h\x07.", "memo key 7"),
        (b"\x80\x09.", "protocol"),
        (b"cmod\n\xf8\n", "UTF-8"),
        (b"\x80\x02\xff", "invalid load key"),
        (b"\x80\x05\x97.", "out-of-band"),
        (b"\x80\x04\x95" + struct.pack("<Q", 10**9) + b"N.", "FRAME"),
        (b"Ifoo\n.", "int"),
        (b"I" + b"9" * 5000 + b"\n.", "digits"),
        (b"S'abc\n.", "quoted"),
        (b".", "underflow"),
    ],
)
def test_malformed_streams_report_a_clear_error(data: bytes, needle: str | None) -> None:
    t = simulate(data, file="x")
    if needle is None:
        assert t.streams == () and t.error is None
    else:
        assert t.error is not None and needle in t.error.message


def test_limits_stop_with_an_error_not_unbounded_memory() -> None:
    data = b"\x80\x02]" + b"N" * 5000 + b"."
    t = simulate(data, file="x", max_ops=1000)
    assert t.error is not None and "opcodes" in t.error.message
    data = b"\x80\x02" + b"]" * 3000 + b"."
    t = simulate(data, file="x", max_objects=100)
    assert t.error is not None and "objects" in t.error.message


def test_huge_int_is_opaque() -> None:
    data = b"\x80\x02\x8b" + struct.pack("<i", 10000) + b"\x01" * 10000 + b"."
    t = simulate(data, file="x")
    assert t.error is None and t.value[0].kind == "int"


def test_deep_nesting_does_not_recurse_out() -> None:
    data = b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b"."
    t = simulate(data, file="x")
    assert t.error is None
    depth, v = 0, t.value[0]
    while isinstance(v, list) and v:
        v, depth = v[0], depth + 1
    assert depth > 100


def test_torch_state_dict_shape_is_documented_shape() -> None:
    torch = pytest.importorskip("torch")
    sd = torch.nn.Linear(3, 2).state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = next(n for n in z.namelist() if n.endswith("data.pkl"))
        data = z.read(name)
    t = simulate(data, file="model.pt")
    assert t.error is None
    v = t.value[0]
    while isinstance(v, Build):
        v = v.obj
    assert v.func == Global("collections", "OrderedDict")
    items = dict(v.dictitems)
    w = items["weight"]
    assert w.func == Global("torch._utils", "_rebuild_tensor_v2")
    pid = w.args[0]
    assert isinstance(pid, PersistentId)
    assert pid.value == ("storage", Global("torch", "FloatStorage"), "0", "cpu", 6)
    assert w.args[2:4] == ((2, 3), (3, 1))


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(obj=plain, proto=st.integers(3, 5))
def test_fuzz_plain_objects_round_trip(obj, proto: int) -> None:
    t = simulate(pickle.dumps(obj, protocol=proto), file="x")
    assert t.error is None and t.calls == ()
    assert t.value == (obj,)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_fuzz_random_bytes_never_raise(data: bytes) -> None:
    t = simulate(data, file="x")
    assert t.error is None or t.error.offset <= len(data)


@settings(max_examples=200, deadline=None)
@given(obj=plain, cut=st.integers(0, 400), flip=st.integers(0, 255))
def test_fuzz_mutated_pickles_never_raise(obj, cut: int, flip: int) -> None:
    data = bytearray(pickle.dumps(obj, protocol=4))
    if data:
        data[cut % len(data)] ^= flip
    simulate(bytes(data[: cut + 2]), file="x")
