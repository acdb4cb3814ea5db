//! Source decoding (BOM, PEP 263 cookies, invalid bytes) against CPython 3.12.1's
//! `ast.parse(bytes)`: the same text, or the same error class, message and line.

mod common;

use common::cpython_ast::{cpython_parse_many, first_difference};
use pyc_compiler::ast::Mode;

const CASES: &[&[u8]] = &[
    b"x = 1\n",
    b"\xef\xbb\xbfx = 'BOM'\n",
    b"\xef\xbb\xbf# coding: utf-8\nx = 1\n",
    b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
    b"\xef\xbb\xbf# coding: cp1252\nx = 1\n",
    b"# coding: foo\nx = 1\n",
    b"# coding: mbcs\nx = 1\n",
    b"# coding: rot13\nx = 1\n",
    b"# coding=UTF-8\nx = 1\n",
    b"# coding: utf8\nx = 1",
    b"# coding: utf-8-sig\nx = 1",
    b"# coding: latin-1\nx = '\xe9'\n",
    b"# coding: latin1\nx = '\xe9'\n",
    b"# coding: ISO_8859-1\nx = '\xe9'\n",
    b"  # coding: iso-latin-1-unix\nx = '\xe9'",
    b"\n# coding: latin-1\nx = '\xe9'\n",
    b"#!/usr/bin/python\n# -*- coding: iso-8859-15 -*-\nx = '\xa4'\n",
    b"x = 1\n# coding: latin-1\nx = '\xe9'\n",
    b"\n\n# coding: latin-1\nx = '\xe9'\n",
    b"x = 1 # coding: latin-1\n",
    b"# vim: set fileencoding=cp1252 :\nx = '\x80'\n",
    b"# coding: cp1252\nx = '\x81'\n",
    b"# coding: koi8-r\nx = '\xc1'\n",
    b"# coding: ascii\nx = '\xe9'\n",
    b"# coding: ascii\nx = 'e'\n",
    b"# coding: mac-roman\nx = '\x80'\n",
    b"x = 1\0\n",
    b"# coding: latin-1\nx = 1\0\n",
    b"x = 1\ny = '\xff'\n",
    b"x = 1\ny = 'a\xc3'\n",
    b"x = 1\n\n\ny = 'ab\xe2\x82'\nz = 1\n",
    b"# coding: utf-8\nx = '\xff'\n",
    b"\xef\xbb\xbfx = '\xff'\n",
    b"\xff\nx = 1",
    b"caf\xe9 = 1",
    b"x = caf\xe9\xe9 + 1",
    b"x = 'a\\n\xe9\xe9b'",
    b"x = r'a\\n\xe9b'",
    b"x = '''a\n\xe9'''",
    b"x = 'abc\xe9' + '\xe9'",
    b"x = b'\xe9'",
    b"x = '\xe2\x82z'",
    b"x = '\xf0\x9f\x98'",
    b"x = '\xed\xa0\x80'",
    b"x = 1 # caf\xe9\n",
    b"# caf\xe9\nx = 1",
    b"x = f'a{y}\xe9'",
    b"x = 1\r\ny = 2\r\n",
    b"x = '''a\r\nb'''\r",
    b"x = 1\ry = 2\r",
];

#[test]
fn decoding_matches_cpython() {
    let mut failures = Vec::new();
    let expected = cpython_parse_many(CASES, Mode::Module);
    for (&case, cpython) in CASES.iter().zip(&expected) {
        let ours = pyc_compiler::decode::decode(case)
            .and_then(|text| pyc_compiler::parse::parse(&text, Mode::Module, "<test>"));
        let verdict = match (&ours, &cpython.result) {
            (Ok(a), Ok(b)) => first_difference(a, b),
            (Err(a), Err(b)) => {
                let same = a.kind.name() == b.kind
                    && a.msg == b.msg
                    && i64::from(a.lineno) == b.lineno.unwrap_or(0);
                (!same).then(|| format!("ours {a:?}\n  CPython {b:?}"))
            }
            (a, b) => Some(format!("ours {a:?}\n  CPython {b:?}")),
        };
        if let Some(v) = verdict {
            failures.push(format!("{:?}: {v}", String::from_utf8_lossy(case)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
