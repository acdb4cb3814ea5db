//! Parser errors: ruff's parse errors with CPython's messages, and string literals whose
//! escapes CPython's parser rejects.

use ruff_python_ast as ruff;
use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::source_order::{
    walk_expr, walk_stmt, SourceOrderVisitor, TraversalSignal,
};
use ruff_python_ast::AnyNodeRef;
use ruff_python_parser::{InterpolatedStringErrorType, ParseError, ParseErrorType};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::tokenizer::fstring_message;
use super::{Errors, Found, Stage};
use crate::error::{CompileError, ErrorKind};
use crate::parse::strings::{self, StrBuf};

impl Errors<'_> {
    /// The first string literal before `before` whose escapes CPython's parser rejects.
    pub(super) fn literal_error(&self, before: TextSize) -> Option<Found> {
        let mut raw_fstrings: Vec<bool> = Vec::new();
        for token in self.tokens.iter().take_while(|t| t.start() < before) {
            let range = token.range();
            let result = match token.kind() {
                TokenKind::FStringStart | TokenKind::TStringStart => {
                    let prefix = self.src[range].trim_end_matches(['"', '\'']);
                    raw_fstrings.push(prefix.contains(['r', 'R']));
                    continue;
                }
                TokenKind::FStringEnd | TokenKind::TStringEnd => {
                    raw_fstrings.pop();
                    continue;
                }
                TokenKind::FStringMiddle | TokenKind::TStringMiddle => {
                    let raw = raw_fstrings.last().copied().unwrap_or(false);
                    strings::decode_str(&self.src[range], raw, true, &mut StrBuf::default())
                }
                TokenKind::String => {
                    let literal = strings::split_token(&self.src[range]);
                    if literal.bytes {
                        strings::decode_bytes(literal.body, literal.raw, &mut Vec::new())
                    } else {
                        strings::decode_str(
                            literal.body,
                            literal.raw,
                            false,
                            &mut StrBuf::default(),
                        )
                    }
                }
                _ => continue,
            };
            if let Err(msg) = result {
                return Some(Found {
                    at: range.start(),
                    error: self.error(ErrorKind::SyntaxError, msg, range),
                    stage: Stage::Parser,
                });
            }
        }
        None
    }

    /// A ruff parse error as CPython's parser reports it.
    pub(super) fn parse_error(&self, e: &ParseError) -> Found {
        let range = e.location;
        let found = |error: CompileError| Found {
            at: range.start(),
            error,
            stage: Stage::Parser,
        };
        let specific = |msg: &str| found(self.error(ErrorKind::SyntaxError, msg, range));
        let generic = || {
            // At the end of a source ending in a newline, CPython's parser is still on the
            // last line.
            let at = if range.start() == TextSize::of(self.src) && self.src.ends_with('\n') {
                TextRange::empty(range.start() - TextSize::new(1))
            } else if &self.src[range] == "\n" && self.in_brackets(range.start()) {
                // A line end inside brackets is no token for CPython: the next one is.
                self.tokens[self.tokens.partition_point(|t| t.start() < range.end())..]
                    .iter()
                    .find(|t| !t.kind().is_trivia())
                    .map_or(range, |t| t.range())
            } else {
                range
            };
            found(self.error(ErrorKind::SyntaxError, "invalid syntax", at))
        };
        match &e.error {
            ParseErrorType::OtherError(msg) if msg.starts_with("Expected an indented block") => {
                found(self.expected_indent(msg, range))
            }
            ParseErrorType::OtherError(msg)
                if msg.starts_with("Expected `except` or `finally`") =>
            {
                // CPython reports it at the end of the `try` body.
                let at = self
                    .tokens
                    .iter()
                    .take_while(|t| t.end() <= range.start())
                    .filter(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Dedent)
                    .last()
                    .map_or(range, |t| t.range());
                let e = self.error(
                    ErrorKind::SyntaxError,
                    "expected 'except' or 'finally' block",
                    at,
                );
                found(e)
            }
            ParseErrorType::UnexpectedIndentation => Found {
                at: range.start(),
                error: self.error(ErrorKind::IndentationError, "unexpected indent", range),
                stage: Stage::ParserFinal,
            },
            ParseErrorType::InvalidArgumentUnpackingOrder => {
                specific("iterable argument unpacking follows keyword argument unpacking")
            }
            ParseErrorType::ExpectedKeywordParam => {
                // CPython points at the bare `*`.
                let star = self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())]
                    .iter()
                    .rev()
                    .find(|t| t.kind() == TokenKind::Star)
                    .map_or(range, |t| t.range());
                found(self.error(
                    ErrorKind::SyntaxError,
                    "named arguments must follow bare *",
                    star,
                ))
            }
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Rsqb | TokenKind::Rbrace,
                found: TokenKind::For | TokenKind::Async,
            } => match self.unparenthesized_target(range.start()) {
                Some(start) => found(self.error(
                    ErrorKind::SyntaxError,
                    "did you forget parentheses around the comprehension target?",
                    TextRange::new(start, range.start()),
                )),
                None => generic(),
            },
            ParseErrorType::NonDefaultParamAfterDefaultParam => {
                specific("parameter without a default follows parameter with a default")
            }
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Else,
                ..
            } => specific("expected 'else' after 'if' expression"),
            ParseErrorType::FStringError(InterpolatedStringErrorType::InvalidConversionFlag) => {
                match self.src[range].chars().next() {
                    Some(c) if !c.is_whitespace() && c != '}' && c != ':' => specific(&format!(
                        "f-string: invalid conversion character '{c}': expected 's', 'r', or 'a'"
                    )),
                    _ => specific("f-string: missing conversion character"),
                }
            }
            ParseErrorType::FStringError(e) => specific(&fstring_message(e)),
            ParseErrorType::OtherError(msg) => match msg.as_str() {
                "Bytes literal cannot be mixed with non-bytes literals" => {
                    specific("cannot mix bytes and nonbytes literals")
                }
                "Only one '/' separator allowed" => specific("/ may appear only once"),
                "Only one '*' parameter allowed" | "Only one '*' separator allowed" => {
                    specific("* argument may appear only once")
                }
                "Only one '**' parameter allowed" => {
                    specific("arguments cannot follow var-keyword argument")
                }
                "Expected one or more exception types" => {
                    specific("expected one or more exception types")
                }
                "Cannot have both 'except' and 'except*' on the same 'try'" => {
                    specific("cannot have both 'except' and 'except*' on the same 'try'")
                }
                "Expected a parameter name"
                    if self.next_kind(range.end()) == Some(TokenKind::Equal) =>
                {
                    specific("expression cannot contain assignment, perhaps you meant \"==\"?")
                }
                _ => generic(),
            },
            ParseErrorType::SimpleStatementsOnSameLine => match self.legacy_call(range) {
                Some((name, at)) => found(self.error(
                    ErrorKind::SyntaxError,
                    format!("Missing parentheses in call to '{name}'. Did you mean {name}(...)?"),
                    at,
                )),
                None => match self.import_from_mixup(range) {
                    Some(statement) => found(self.error(
                        ErrorKind::SyntaxError,
                        "Did you mean to use 'from ... import ...' instead?",
                        TextRange::new(statement, range.end()),
                    )),
                    None => generic(),
                },
            },
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Comma,
                found: next,
            } if self.in_brackets(range.start()) && starts_expression(*next) => {
                // CPython points from the element before the missing comma.
                let start = self.element_start(range.start());
                let at = TextRange::new(start, range.end());
                found(self.error(
                    ErrorKind::SyntaxError,
                    "invalid syntax. Perhaps you forgot a comma?",
                    at,
                ))
            }
            ParseErrorType::ParamAfterVarKeywordParam => {
                specific("arguments cannot follow var-keyword argument")
            }
            ParseErrorType::UnparenthesizedGeneratorExpression => {
                specific("Generator expression must be parenthesized")
            }
            ParseErrorType::PositionalAfterKeywordUnpacking => {
                specific("positional argument follows keyword argument unpacking")
            }
            ParseErrorType::PositionalAfterKeywordArgument => {
                specific("positional argument follows keyword argument")
            }
            ParseErrorType::IterableUnpackingInComprehension => {
                specific("iterable unpacking cannot be used in comprehension")
            }
            ParseErrorType::ExpectedRealNumber => {
                specific("real number required in complex literal")
            }
            ParseErrorType::ExpectedImaginaryNumber => {
                specific("imaginary number required in complex literal")
            }
            ParseErrorType::ExpectedExpression
                if self.token_before(range.start()) == Some(TokenKind::Lbrace)
                    && self.in_fstring(range.start()) =>
            {
                match self.src[range.start().to_usize()..].chars().next() {
                    Some(c @ ('}' | '!' | '=' | ':')) => {
                        specific(&format!("f-string: valid expression required before '{c}'"))
                    }
                    _ => generic(),
                }
            }
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Colon,
                ..
            } if !self.in_brackets(range.start()) => specific("expected ':'"),
            ParseErrorType::VarParameterWithDefault => {
                let star = self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())]
                    .iter()
                    .rev()
                    .find(|t| matches!(t.kind(), TokenKind::Star | TokenKind::DoubleStar));
                match star.map(|t| t.kind()) {
                    Some(TokenKind::DoubleStar) => {
                        specific("var-keyword argument cannot have default value")
                    }
                    _ => specific("var-positional argument cannot have default value"),
                }
            }
            ParseErrorType::InvalidDeleteTarget => match self.find_expr(range) {
                Some(e) => specific(&format!("cannot delete {}", expr_name(e))),
                None => generic(),
            },
            ParseErrorType::InvalidAugmentedAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&format!(
                    "'{}' is an illegal expression for augmented assignment",
                    expr_name(e)
                )),
                None => generic(),
            },
            ParseErrorType::InvalidAnnotatedAssignmentTarget => match self.find_expr(range) {
                Some(ruff::Expr::Tuple(_)) => {
                    specific("only single target (not tuple) can be annotated")
                }
                Some(ruff::Expr::List(_)) => {
                    specific("only single target (not list) can be annotated")
                }
                _ => specific("illegal target for annotation"),
            },
            ParseErrorType::InvalidNamedAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&format!(
                    "cannot use assignment expressions with {}",
                    expr_name(e)
                )),
                None => generic(),
            },
            ParseErrorType::InvalidAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&self.assign_message(e, range)),
                None => generic(),
            },
            _ => generic(),
        }
    }

    /// `print x` / `exec x` at the start of a statement (Python 2): the name and its range.
    fn legacy_call(&self, range: TextRange) -> Option<(&str, TextRange)> {
        let before = &self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())];
        let mut significant = before.iter().rev().filter(|t| !t.kind().is_trivia());
        let name = significant.next().filter(|t| t.kind() == TokenKind::Name)?;
        let text = &self.src[name.range()];
        let at_start = significant.next().is_none_or(|t| {
            matches!(
                t.kind(),
                TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Semi
            )
        });
        (at_start && (text == "print" || text == "exec")).then_some((text, name.range()))
    }

    /// The kind of the first significant token at or after `offset`.
    fn next_kind(&self, offset: TextSize) -> Option<TokenKind> {
        self.tokens[self.tokens.partition_point(|t| t.start() < offset)..]
            .iter()
            .find(|t| !t.kind().is_trivia())
            .map(|t| t.kind())
    }

    /// `import a from b`: an `import` statement followed by `from`; where it starts.
    fn import_from_mixup(&self, range: TextRange) -> Option<TextSize> {
        let before = &self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())];
        let statement = before
            .iter()
            .rposition(|t| matches!(t.kind(), TokenKind::Newline | TokenKind::Semi))
            .map_or(0, |i| i + 1);
        let first = before[statement..].iter().find(|t| !t.kind().is_trivia())?;
        (first.kind() == TokenKind::Import
            && self.next_kind(range.start()) == Some(TokenKind::From))
        .then_some(first.start())
    }

    /// The start of the bracketed element that ends before `offset`: back to the comma or
    /// opening bracket at its level.
    fn element_start(&self, offset: TextSize) -> TextSize {
        let before = &self.tokens[..self.tokens.partition_point(|t| t.end() <= offset)];
        let mut depth = 0usize;
        let mut start = offset;
        for t in before.iter().rev() {
            match t.kind() {
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => depth += 1,
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace if depth == 0 => break,
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => depth -= 1,
                TokenKind::Comma | TokenKind::Colon if depth == 0 => break,
                _ => {}
            }
            if !t.kind().is_trivia() {
                start = t.start();
            }
        }
        start
    }

    /// `[a, b for ...]`: the start of the first element, if the bracket before `offset` holds
    /// a comma at its level.
    fn unparenthesized_target(&self, offset: TextSize) -> Option<TextSize> {
        let before = &self.tokens[..self.tokens.partition_point(|t| t.end() <= offset)];
        let mut depth = 0usize;
        let mut comma = false;
        for (i, t) in before.iter().enumerate().rev() {
            match t.kind() {
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => depth += 1,
                TokenKind::Lsqb | TokenKind::Lbrace if depth == 0 => {
                    let first = before[i + 1..].iter().find(|t| !t.kind().is_trivia())?;
                    return comma.then_some(first.start());
                }
                TokenKind::Lpar if depth == 0 => return None,
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => depth -= 1,
                TokenKind::Comma if depth == 0 => comma = true,
                _ => {}
            }
        }
        None
    }

    /// Whether `offset` is inside an f-string (between its start and end tokens).
    fn in_fstring(&self, offset: TextSize) -> bool {
        let mut depth = 0i32;
        for t in self.tokens.iter().take_while(|t| t.start() < offset) {
            match t.kind() {
                TokenKind::FStringStart => depth += 1,
                TokenKind::FStringEnd => depth -= 1,
                _ => {}
            }
        }
        depth > 0
    }

    /// Whether `offset` is inside brackets (where a missing `:` is a dict's or a slice's).
    fn in_brackets(&self, offset: TextSize) -> bool {
        let mut depth = 0i32;
        for t in self.tokens.iter().take_while(|t| t.start() < offset) {
            match t.kind() {
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => depth += 1,
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => depth -= 1,
                _ => {}
            }
        }
        depth > 0
    }

    /// The kind of the last significant token before `offset`.
    fn token_before(&self, offset: TextSize) -> Option<TokenKind> {
        self.tokens[..self.tokens.partition_point(|t| t.end() <= offset)]
            .iter()
            .rev()
            .find(|t| !t.kind().is_trivia())
            .map(|t| t.kind())
    }

    /// The expression ruff's error points at.
    fn find_expr(&self, range: TextRange) -> Option<&ruff::Expr> {
        let mut finder = Finder {
            range,
            depth: 0,
            found: None,
        };
        finder.visit_mod(self.syntax);
        finder.found
    }

    /// CPython's message for an invalid assignment target: a target followed by a single `=`
    /// at the start of a statement reads as a mistyped comparison (`invalid_named_expression`).
    fn assign_message(&self, target: &ruff::Expr, range: TextRange) -> String {
        let name = expr_name(target);
        let parenthesized = self.token_before(range.start()) == Some(TokenKind::Lpar);
        if matches!(target, ruff::Expr::Yield(_) | ruff::Expr::YieldFrom(_)) && !parenthesized {
            return "assignment to yield expression not possible".into();
        }
        let after = self.tokens[self.tokens.partition_point(|t| t.start() < range.end())..]
            .iter()
            .find(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Rpar)
            .map(|t| t.kind());
        let statement_start = parenthesized
            || matches!(
                self.token_before(range.start()),
                None | Some(
                    TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Semi
                )
            );
        let comparison_like = !matches!(
            target,
            ruff::Expr::List(_)
                | ruff::Expr::Tuple(_)
                | ruff::Expr::Generator(_)
                | ruff::Expr::BooleanLiteral(_)
                | ruff::Expr::NoneLiteral(_)
        );
        if after == Some(TokenKind::Equal) && statement_start && comparison_like {
            format!("cannot assign to {name} here. Maybe you meant '==' instead of '='?")
        } else {
            format!("cannot assign to {name}")
        }
    }

    /// `expected an indented block after 'if' statement on line N`, on the line of the token
    /// that should have been indented (or of the header, at the end of the source).
    fn expected_indent(&self, ruff_msg: &str, range: TextRange) -> CompileError {
        let mut what = ruff_msg
            .trim_start_matches("Expected an indented block after ")
            .replace('`', "'")
            .replace(" block", " statement")
            .replace(" clause", " statement")
            .replace("'class' definition", "class definition");
        let next = self.tokens[self.tokens.partition_point(|t| t.start() < range.start())..]
            .iter()
            .find(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Newline);
        let at = match next {
            Some(t) if t.kind() != TokenKind::EndOfFile => t.range(),
            _ => range,
        };
        // The header's line: the first token of the logical line whose `:` precedes the error.
        let before: Vec<_> = self
            .tokens
            .iter()
            .take_while(|t| t.end() <= range.start())
            .collect();
        let colon = before.iter().rposition(|t| t.kind() == TokenKind::Colon);
        let header = colon.map_or(range.start(), |colon| {
            before[..colon]
                .iter()
                .rposition(|t| {
                    matches!(
                        t.kind(),
                        TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent
                    )
                })
                .map_or(before[0].start(), |i| before[i + 1].start())
        });
        if what == "'except' statement" && self.src[header.to_usize()..].starts_with("except*") {
            what = "'except*' statement".into();
        }
        let msg = format!(
            "expected an indented block after {what} on line {}",
            self.line(header)
        );
        self.error(ErrorKind::IndentationError, msg, at)
    }
}

/// Finds the expression with exactly a given range, searching at most 200 levels deep (error
/// paths only; deeper trees get generic messages).
struct Finder<'a> {
    range: TextRange,
    depth: usize,
    found: Option<&'a ruff::Expr>,
}

impl<'a> SourceOrderVisitor<'a> for Finder<'a> {
    fn enter_node(&mut self, node: AnyNodeRef<'a>) -> TraversalSignal {
        if self.found.is_none() && self.depth < 200 && node.range().contains_range(self.range) {
            TraversalSignal::Traverse
        } else {
            TraversalSignal::Skip
        }
    }

    fn visit_stmt(&mut self, stmt: &'a ruff::Stmt) {
        self.depth += 1;
        walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a ruff::Expr) {
        if self.found.is_none() && expr.range() == self.range {
            self.found = Some(expr);
            return;
        }
        self.depth += 1;
        walk_expr(self, expr);
        self.depth -= 1;
    }
}

/// CPython's name for an expression in its error messages (`_PyPegen_get_expr_name`).
fn expr_name(expr: &ruff::Expr) -> &'static str {
    use ruff::Expr as E;
    match expr {
        E::Attribute(_) => "attribute",
        E::Subscript(_) => "subscript",
        E::Starred(_) => "starred",
        E::Name(_) => "name",
        E::List(_) => "list",
        E::Tuple(_) => "tuple",
        E::Lambda(_) => "lambda",
        E::Call(_) => "function call",
        E::BoolOp(_) | E::BinOp(_) | E::UnaryOp(_) => "expression",
        E::Generator(_) => "generator expression",
        E::Yield(_) | E::YieldFrom(_) => "yield expression",
        E::Await(_) => "await expression",
        E::ListComp(_) => "list comprehension",
        E::SetComp(_) => "set comprehension",
        E::DictComp(_) => "dict comprehension",
        E::Dict(_) => "dict literal",
        E::Set(_) => "set display",
        E::FString(_) | E::TString(_) => "f-string expression",
        E::NoneLiteral(_) => "None",
        E::BooleanLiteral(b) if b.value => "True",
        E::BooleanLiteral(_) => "False",
        E::EllipsisLiteral(_) => "ellipsis",
        E::StringLiteral(_) | E::BytesLiteral(_) | E::NumberLiteral(_) => "literal",
        E::Compare(_) => "comparison",
        E::If(_) => "conditional expression",
        E::Named(_) => "named expression",
        E::Slice(_) | E::IpyEscapeCommand(_) => "expression",
    }
}

/// Whether a token can begin an expression CPython would read as a missing-comma element.
fn starts_expression(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Name
            | TokenKind::Int
            | TokenKind::Float
            | TokenKind::Complex
            | TokenKind::String
            | TokenKind::FStringStart
            | TokenKind::Lbrace
            | TokenKind::True
            | TokenKind::False
            | TokenKind::None
            | TokenKind::Ellipsis
            | TokenKind::Lambda
            | TokenKind::Not
            | TokenKind::Await
    )
}
