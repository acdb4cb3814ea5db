//! f-strings: ruff's `FString` parts to CPython 3.12's `JoinedStr` / `FormattedValue`.
//!
//! CPython merges adjacent literal text (f-string middles and plain string parts of an implicit
//! concatenation) into one `Constant` spanning from the first piece to the last, drops empty
//! ones, turns `{x=}` into the constant `'x='` before the field (and `!r` by default), starts a
//! format spec's `JoinedStr` at its `:`, and (3.12 only) ends a spec whose last piece is a field
//! with an empty `Constant('')`.

use ruff_python_ast as ruff;
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::convert::{Converter, Result};
use super::strings::{self, StrBuf};
use crate::ast::*;
use crate::error::{CompileError, ErrorKind};

/// The values of a `JoinedStr` being built.
#[derive(Default)]
struct Pieces {
    values: Vec<Expr>,
    /// Literal text not yet emitted: its range, value, and whether it began with a `u` string.
    pending: Option<(TextRange, StrBuf, bool)>,
}

impl Pieces {
    fn literal(&mut self, range: TextRange, value: StrBuf, unicode: bool) {
        match &mut self.pending {
            Some((pending_range, text, _)) => {
                *pending_range = TextRange::new(pending_range.start(), range.end());
                text.append(&value);
            }
            None => self.pending = Some((range, value, unicode)),
        }
    }

    fn flush(&mut self, cx: &Converter<'_>) {
        if let Some((range, text, unicode)) = self.pending.take() {
            if !text.is_empty() {
                self.values.push(Expr {
                    loc: cx.loc(range),
                    kind: ExprKind::Constant {
                        value: Constant::Str(text.finish()),
                        kind_u: unicode,
                    },
                });
            }
        }
    }

    fn field(&mut self, cx: &Converter<'_>, field: Expr) {
        self.flush(cx);
        self.values.push(field);
    }

    fn finish(mut self, cx: &Converter<'_>) -> Vec<Expr> {
        self.flush(cx);
        self.values
    }
}

impl Converter<'_> {
    /// An f-string, possibly implicitly concatenated with other strings.
    pub fn fstring(&mut self, e: &ruff::ExprFString) -> Result<Expr> {
        let mut pieces = Pieces::default();
        for part in e.value.iter() {
            match part {
                ruff::FStringPart::Literal(s) => {
                    let mut text = StrBuf::default();
                    self.decode_string_part(s.range, &mut text)?;
                    let unicode = strings::split_token(self.text(s.range)).unicode;
                    pieces.literal(s.range, text, unicode);
                }
                ruff::FStringPart::FString(f) => {
                    let raw = f.flags.prefix().is_raw();
                    self.elements(&f.elements, raw, &mut pieces)?;
                }
            }
        }
        Ok(Expr {
            loc: self.loc(e.range),
            kind: ExprKind::JoinedStr {
                values: pieces.finish(self),
            },
        })
    }

    fn elements(
        &mut self,
        elements: &ruff::InterpolatedStringElements,
        raw: bool,
        pieces: &mut Pieces,
    ) -> Result<()> {
        for element in elements.iter() {
            match element {
                ruff::InterpolatedStringElement::Literal(l) => {
                    let text = self.literal_text(l.range, raw)?;
                    pieces.literal(l.range, text, false);
                }
                ruff::InterpolatedStringElement::Interpolation(i) => {
                    if i.debug_text.is_some() && self.fields > 0 {
                        // CPython 3.12 builds a `Constant` without a value for `{x=}` inside a
                        // format spec, which its AST validation then rejects.
                        return Err(CompileError {
                            kind: ErrorKind::ValueError,
                            msg: "field 'value' is required for Constant".into(),
                            lineno: 0,
                            offset: 0,
                            end_lineno: 0,
                            end_offset: 0,
                        });
                    }
                    if let Some(debug) = &i.debug_text {
                        let start = i.range.start() + TextSize::new(1);
                        let range = TextRange::at(start, TextSize::of(debug.as_str()));
                        let text = self.debug_text(range);
                        pieces.literal(range, text, false);
                    }
                    let field = self.formatted_value(i, raw)?;
                    pieces.field(self, field);
                }
            }
        }
        Ok(())
    }

    /// The text of `{expr=}` before the field: the source, without its comments.
    fn debug_text(&self, range: TextRange) -> StrBuf {
        let mut text = StrBuf::default();
        let mut at = range.start();
        let start = self.tokens.partition_point(|t| t.start() < range.start());
        for token in self.tokens[start..]
            .iter()
            .take_while(|t| t.end() <= range.end())
        {
            if token.kind() == ruff_python_ast::token::TokenKind::Comment {
                text.push_str(self.text(TextRange::new(at, token.start())));
                at = token.end();
            }
        }
        text.push_str(self.text(TextRange::new(at, range.end())));
        text
    }

    /// The value of an f-string middle: escapes decoded, doubled braces undoubled.
    fn literal_text(&mut self, range: TextRange, raw: bool) -> Result<StrBuf> {
        let source = self.text(range);
        let mut text = StrBuf::default();
        match strings::decode_str(source, raw, true, &mut text) {
            Ok(Some(warning)) => self.warn(warning, range.start()),
            Ok(None) => {}
            Err(msg) => return Err(self.error_at(msg, range)),
        }
        // A backslash right before a replacement field: CPython's tokenizer warns `\{`.
        let trailing = source.len() - source.trim_end_matches('\\').len();
        if !raw && trailing % 2 == 1 && self.src[range.end().to_usize()..].starts_with('{') {
            self.warn("invalid escape sequence '\\{'".into(), range.start());
        }
        Ok(text)
    }

    fn formatted_value(&mut self, i: &ruff::InterpolatedElement, raw: bool) -> Result<Expr> {
        let value = self.boxed(&i.expression)?;
        let conversion = match i.conversion {
            ruff::ConversionFlag::None if i.debug_text.is_some() && i.format_spec.is_none() => {
                Conversion::Repr
            }
            ruff::ConversionFlag::None => Conversion::None,
            ruff::ConversionFlag::Str => Conversion::Str,
            ruff::ConversionFlag::Ascii => Conversion::Ascii,
            ruff::ConversionFlag::Repr => Conversion::Repr,
        };
        let format_spec = match &i.format_spec {
            Some(spec) => {
                self.fields += 1;
                let spec = self.nested(|cx| cx.format_spec(spec, raw));
                self.fields -= 1;
                Some(Box::new(spec?))
            }
            None => None,
        };
        Ok(Expr {
            loc: self.loc(i.range),
            kind: ExprKind::FormattedValue {
                value,
                conversion,
                format_spec,
            },
        })
    }

    fn format_spec(
        &mut self,
        spec: &ruff::InterpolatedStringFormatSpec,
        raw: bool,
    ) -> Result<Expr> {
        // CPython's tokenizer: a field inside the spec of a third nested field is too deep.
        let colon = spec.range.start() - TextSize::new(1);
        if self.fields >= 3 && spec.elements.interpolations().next().is_some() {
            return Err(self.error_at(
                "f-string: expressions nested too deeply".into(),
                TextRange::empty(colon),
            ));
        }
        let mut pieces = Pieces::default();
        self.elements(&spec.elements, raw, &mut pieces)?;
        let mut values = pieces.finish(self);
        if let Some(ruff::InterpolatedStringElement::Interpolation(last)) = spec.elements.last() {
            // CPython 3.12 ends such a spec with an empty constant.
            let end = self.loc(TextRange::empty(last.range.end()));
            values.push(Expr {
                loc: end,
                kind: ExprKind::Constant {
                    value: Constant::Str(pyc_loader::Str::default()),
                    kind_u: false,
                },
            });
        }
        // CPython's spec starts at the `:`.
        Ok(Expr {
            loc: self.loc(TextRange::new(colon, spec.range.end())),
            kind: ExprKind::JoinedStr { values },
        })
    }
}
