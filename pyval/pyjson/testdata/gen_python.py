#!/usr/bin/env python3
"""Generate python_cases.json: what CPython's json and PyYAML really do.

Run from this folder with any Python 3 that has PyYAML:

    python3 gen_python.py > python_cases.json

Three tables:

* "dumps": a Python literal (evaluated with ast.literal_eval, which
  pyval/pylit parses too) or a JSON text (parsed with json.loads, for NaN
  and infinities, which have no literal), json.dumps keyword arguments, and
  the output bytes or the exception.
* "loads": a JSON text and repr(json.loads(text)) or the exception.
* "yaml": a YAML text and repr(yaml.safe_load(text)) or the exception.

The Go tests read the file; they never run Python.
"""
import ast
import json
import math
import platform
import sys

import yaml

DUMPS = [
    # (name, input kind, input, kwargs)
    ("defaults", "py", "{'b': 1, 'a': [1, 2.5, None, True, False], 'c': {}}", {}),
    ("defaults_nested_empty", "py", "[[], {}, [[]], {'x': []}]", {}),
    ("tuple", "py", "(1, (2, 3), [])", {}),
    ("str_escapes", "py", r"'q\" b\\ n\n r\r t\t b\b f\f z\x00 u\x1f del\x7f / sl'", {}),
    ("str_escapes_noascii", "py", r"'q\" b\\ n\n r\r t\t b\b f\f z\x00 u\x1f del\x7f / sl'", {"ensure_ascii": False}),
    ("non_ascii", "py", r"'\xe9t\xe9 \u20ac \U0001f600 \u2028\u2029 \ufeff \uffff \U0010ffff'", {}),
    ("non_ascii_noascii", "py", r"'\xe9t\xe9 \u20ac \U0001f600 \u2028\u2029 \ufeff \uffff \U0010ffff'", {"ensure_ascii": False}),
    ("html", "py", "'<script>&amp;</script>'", {}),
    ("floats", "py", "[0.0, -0.0, 1.0, 21600.0, 0.1, 1e16, 1e15, 1e-4, 1e-5, 1.5e300, 5e-324, 1.7976931348623157e308, 123456789012345678.0, 0.3333333333333333, 2.5e-7]", {}),
    ("ints", "py", "[0, -1, 9223372036854775807, -9223372036854775808, 18446744073709551615]", {}),
    ("inf", "py", "[1e999, -1e999]", {}),
    ("nan", "json", "[NaN, Infinity, -Infinity]", {}),
    ("nan_disallowed", "json", "[NaN]", {"allow_nan": False}),
    ("inf_disallowed", "py", "[1e999]", {"allow_nan": False}),
    ("indent0", "py", "{'a': [1, 2], 'b': {}}", {"indent": 0}),
    ("indent2", "py", "{'a': [1, {'c': [], 'd': [3]}], 'b': {}}", {"indent": 2}),
    ("indent4_default_seps", "py", "[1, [2, 3]]", {"indent": 4}),
    ("indent_explicit_seps", "py", "{'a': [1, 2]}", {"indent": 2, "separators": (", ", ": ")}),
    ("indent_tab", "py", "{'a': [1]}", {"indent": "\t"}),
    ("indent_negative", "py", "{'a': [1]}", {"indent": -3}),
    ("compact", "py", "{'a': [1, 2], 'b': None}", {"separators": (",", ":")}),
    ("odd_separators", "py", "{'a': [1, 2], 'b': None}", {"separators": (" ; ", " = ")}),
    ("sort_keys", "py", "{'b': 1, 'a': 2, 'B': 3, '\\xe9': 4, '\\U0001f600': 5, '\\uffff': 6, '1': 7, '': 8}", {"sort_keys": True}),
    ("sort_nested", "py", "{'z': {'y': 1, 'x': 2}, 'a': [{'d': 1, 'c': 2}]}", {"sort_keys": True}),
    ("key_types", "py", "{1: 'i', 2.5: 'f', True: 't', False: 'f', None: 'n', -0.0: 'z', 1e16: 'e'}", {}),
    ("key_types_sorted_numbers", "py", "{3: 'a', 1.5: 'b', True: 'c', -7: 'd', 18446744073709551615: 'e', 1e300: 'f', -1e999: 'g'}", {"sort_keys": True}),
    ("key_inf", "py", "{1e999: 1}", {}),
    ("key_inf_disallowed", "py", "{1e999: 1}", {"allow_nan": False}),
    ("key_mixed_sorted", "py", "{'a': 1, 1: 2}", {"sort_keys": True}),
    ("key_none_sorted", "py", "{None: 1, 'a': 2}", {"sort_keys": True}),
    ("key_none_alone_sorted", "py", "{None: 1}", {"sort_keys": True}),
    ("key_tuple", "py", "{(1, 2): 3}", {}),
    ("key_tuple_skipped", "py", "{'a': 1, (1, 2): 3, 'b': 2}", {"skipkeys": True}),
    ("key_tuple_all_skipped_indent", "py", "{(1, 2): 3}", {"skipkeys": True, "indent": 2}),
    ("bytes", "py", "b'x'", {}),
    ("bytes_in_list", "py", "[1, b'x']", {}),
    ("complex", "py", "1+2j", {}),
    ("canonical", "py", "{'b': 1, 'a': {'d': [], 'c': {}}, 'u': '\\xe9\\u2028', 'f': 21600.0}",
     {"ensure_ascii": False, "indent": 2, "separators": (",", ": "), "sort_keys": True}),
    ("top_scalar_str", "py", "'x'", {}),
    ("top_scalar_none", "py", "None", {}),
    ("empty_containers_indent", "py", "{'a': [], 'b': {}, 'c': [[], {}]}", {"indent": 2}),
    ("all_controls", "py", repr("".join(map(chr, range(32)))), {}),
    ("neg_zero_key_sorted", "py", "{0.5: 'a', -0.0: 'b', -1: 'c'}", {"sort_keys": True}),
    ("bool_keys_sorted", "py", "{True: 'a', False: 'b', 0.5: 'c'}", {"sort_keys": True}),
    ("big_int_key_vs_float_sorted", "py", "{18446744073709551615: 'i', 1.8446744073709552e19: 'f'}", {"sort_keys": True}),
    ("big_ints", "py", "[18446744073709551616, -9223372036854775809, 0x1" + "0" * 60 + ", -0b1" + "0" * 200 + "]", {}),
    ("big_int_keys_sorted", "py", "{18446744073709551617: 'a', 1.8446744073709552e19: 'b', -0x1" + "0" * 30 + ": 'c', 1e300: 'd', 0: 'e'}", {"sort_keys": True}),
    ("big_int_4215_digits", "py", "0x" + "f" * 3500, {}),
    ("big_int_4335_digits", "py", "[0x" + "f" * 3600 + "]", {}),
    ("big_int_key_4335_digits", "py", "{-0x" + "f" * 3600 + ": 1}", {}),
]

LOADS = [
    ("object_order", '{"b": 1, "a": 2, "c": {"z": [], "y": {}}}'),
    ("duplicate_keys", '{"a": 1, "b": 2, "a": 3}'),
    ("numbers", "[0, -0, 1, -1, 21600, 21600.0, 1e16, 1E+16, 1e-07, -0.0, 0.5, 1.5e300, 1e400, -1e400, 1e-400, 18446744073709551615, -9223372036854775808]"),
    ("constants", "[null, true, false, NaN, Infinity, -Infinity]"),
    ("whitespace", " \t\r\n[ 1 ,\n 2 ] \n"),
    ("escapes", r'"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20AC \ud83d\ude00"'),
    ("raw_utf8", '"\u00e9t\u00e9 \U0001f600 \u2028"'),
    ("del_raw", '"a\x7fb"'),
    ("empty", '[{}, [], ""]'),
    ("nested", '{"a": [1, [2, [3, {"b": null}]]]}'),
    ("big_int", "18446744073709551616"),
    ("neg_big_int", "-9223372036854775809"),
    ("big_ints", "[18446744073709551616, -18446744073709551617, 1" + "0" * 100 + ", {\"k\": -" + "9" * 300 + "}]"),
    ("big_int_4300_digits", "-" + "9" * 4300),
    ("big_int_4301_digits", "[" + "1" * 4301 + "]"),
    ("lone_high_surrogate", r'"\ud800"'),
    ("lone_low_surrogate", r'"\udc00x"'),
    ("high_then_non_low", r'"\ud800\u0041"'),
    ("err_empty", ""),
    ("err_trailing_comma_array", "[1,]"),
    ("err_trailing_comma_object", '{"a": 1,}'),
    ("err_single_quotes", "{'a': 1}"),
    ("err_missing_colon", '{"a" 1}'),
    ("err_missing_comma", "[1 2]"),
    ("err_extra_data", "[1] x"),
    ("err_leading_zero", "01"),
    ("err_dot_no_digits", "1."),
    ("err_bare_minus", "-"),
    ("err_plus", "+1"),
    ("err_control_char", '"a\nb"'),
    ("err_bad_escape", r'"\x41"'),
    ("err_bad_unicode_escape", r'"\u12G4"'),
    ("err_unterminated", '"abc'),
    ("err_nan_lower", "nan"),
    ("err_minus_nan", "-NaN"),
    ("err_hex", "0x10"),
    ("err_multiline", '{\n  "a": 1,\n  "b": @\n}'),
    ("err_column_counts_chars", '["\u00e9\u00e9", @]'),
    ("err_bad_second_escape", r'"\ud800\u12G4"'),
    ("err_short_second_escape", r'"\ud800\u12"'),
    ("err_short_escape", r'"\u12"'),
    ("err_unterminated_escape", '"ab\\'),
    ("err_open_array", "[1, 2"),
    ("err_open_object", '{"a": 1'),
    ("err_key_not_string", "{1: 2}"),
    ("err_comment", "[1] // c"),
    ("err_nul_in_string", '"a\x00b"'),
    ("uppercase_hex_escape", r'"\u00C9\uD83D\uDE00"'),
    ("deep_ok", "[" * 100 + "]" * 100),
]

YAML = [
    ("json_doc", '{"b": 1, "a": [1, 2.5, true, null, "x"], "f": 21600.0}'),
    ("json_exponent", '{"tiny": 1e-07, "big": 1e+16, "ok": 1.5e+300, "noexpsign": 1.0e5}'),
    ("block_mapping", "b: 1\na:\n  - x\n  - 2\nc: {d: e}\n"),
    ("bools_11", "[yes, No, ON, off, true, False, y, n, Y, N, TRUE, yES]"),
    ("nulls", "[~, null, Null, NULL, '', nil]"),
    ("empty_value", "a:\nb: 1\n"),
    ("ints", "[0, -0, +5, 017, 0o17, 0x1F, 0b101, 1_000, 1:30, -1:30:00, 09, 0_7]"),
    ("floats", "[1.5, 1., .5, -.5, +.5, 1.e+3, 1.0e+3, 1e3, 1.0e3, 1_0.5, 1:30.5, .inf, -.Inf, +.INF, .NaN, 1e-07, 6.8523015e+5]"),
    ("strings", "[abc, '123', \"true\", 1.2.3, 0xZZ, 1:2:3x, '=']"),
    ("quoted_and_block", "a: |\n  line1\n  line2\nb: >\n  folded\n  text\nc: 'single'\nd: \"dq\\u00e9\"\n"),
    ("tags", "[!!str 12, !!int '12', !!float 1, !!bool yes, !!null x, !!str true, !!binary aGVsbG8=]"),
    ("int_keys", "{1: a, 2.5: b, true: c, null: d, yes: e}"),
    ("duplicate_keys", "a: 1\nb: 2\na: 3\n"),
    ("anchors", "base: &b {x: 1, y: [1, 2]}\nother: *b\n"),
    ("merge", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n  z: 4\n"),
    ("merge_list", "a: &a {k: a, x: 1}\nb: &b {k: b, y: 2}\nm:\n  <<: [*a, *b]\n  z: 3\n"),
    ("merge_after_own", "a: &a {k: a, x: 1}\nm:\n  k: own\n  <<: *a\n"),
    ("empty_doc", ""),
    ("comment_only", "# nothing\n"),
    ("doc_marker", "---\na: 1\n...\n"),
    ("unicode", "k\u00e9y: \u00e9t\u00e9 \U0001f600\n"),
    ("timestamp", "d: 2024-01-31\n"),
    ("timestamp_quoted", "d: '2024-01-31'\n"),
    ("set", "!!set {a, b}"),
    ("two_docs", "a: 1\n---\nb: 2\n"),
    ("bad_yaml", "a: [1, 2\n"),
    ("big_int", "18446744073709551616"),
    ("big_ints", "[-18446744073709551617, 0x1_0000_0000_0000_0000, 0b1" + "0" * 70 + ", 01" + "0" * 30 + ", 18_446_744_073_709_551_616, 1:0:0:0:0:0:0:0:0:0:0:0]"),
    ("big_int_key", "{18446744073709551616: a, 1" + "0" * 30 + ": b}"),
    ("list_key", "? [1, 2]\n: x\n"),
]


def err(e):
    return type(e).__name__ + ": " + str(e).splitlines()[0]


def main():
    out = {
        "meta": {
            "generator": "gen_python.py",
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "pyyaml": yaml.__version__,
        },
        "dumps": [],
        "loads": [],
        "yaml": [],
    }
    for name, kind, src, kwargs in DUMPS:
        obj = ast.literal_eval(src) if kind == "py" else json.loads(src)
        case = {"name": name, kind: src, "kwargs": kwargs}
        try:
            case["output"] = json.dumps(obj, **kwargs)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            case["error"] = err(e)
        out["dumps"].append(case)
    for name, src in LOADS:
        case = {"name": name, "json": src}
        try:
            case["repr"] = repr(json.loads(src))
        except Exception as e:  # noqa: BLE001
            case["error"] = err(e)
        out["loads"].append(case)
    for name, src in YAML:
        case = {"name": name, "yaml": src}
        try:
            v = yaml.safe_load(src)
            case["repr"] = repr(v)
            try:
                case["canonical"] = json.dumps(v, ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True)
            except Exception as e:  # noqa: BLE001
                case["canonical_error"] = err(e)
        except Exception as e:  # noqa: BLE001
            case["error"] = err(e)
        out["yaml"].append(case)
    # ensure_ascii keeps the file itself plain ASCII; indent for review.
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
