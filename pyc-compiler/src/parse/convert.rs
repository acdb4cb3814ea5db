//! The conversion from ruff's tree to `crate::ast`: shared state and helpers.
//!
//! Expressions are in `convert_expr`, statements and patterns in `convert_stmt`, f-strings in
//! `fstring`.

use ruff_python_ast as ruff;
use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::lines::LineIndex;
use crate::ast::{Loc, Mod, Mode};
use crate::error::{CompileError, Warning};

pub(super) type Result<T> = std::result::Result<T, CompileError>;

/// The deepest tree the conversion builds. CPython's compiler gives up near depth 3000
/// ("maximum recursion depth exceeded during compilation"), so nothing it compiles is deeper;
/// the bound keeps every later stage (and dropping the tree) within ordinary stacks.
pub const MAX_AST_DEPTH: usize = 4000;

/// Stack left below which a conversion step continues on a new stack segment.
const STACK_RED_ZONE: usize = 256 * 1024;
/// Levels of nesting between two checks of the stack left: each level's frames take well under
/// the red zone's share (a few hundred bytes optimized, a few KiB in debug builds).
const STACK_CHECK_LEVELS: usize = 8;

/// Conversion state: the source, its line index and tokens, and the warnings so far.
pub(super) struct Converter<'a> {
    pub src: &'a str,
    pub lines: &'a LineIndex,
    pub tokens: &'a Tokens,
    pub warnings: Vec<Warning>,
    depth: usize,
    max_depth: usize,
    /// Replacement fields enclosing the current f-string element.
    pub fields: usize,
}

/// Converts each item of a slice, stopping at the first error, into a vector allocated once
/// at the slice's length (collecting `Result`s loses the exact size and regrows the vector).
pub(super) fn convert_all<T, U>(
    items: &[T],
    mut convert: impl FnMut(&T) -> Result<U>,
) -> Result<Vec<U>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(convert(item)?);
    }
    Ok(out)
}

/// Converts a ruff tree without errors, given the numbers glued to a keyword the token checks
/// found; also returns the depth of the tree converted.
pub(super) fn convert(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
    mode: Mode,
    glued_numbers: &[TextRange],
) -> (Result<super::Parsed>, usize) {
    let mut cx = Converter {
        src,
        lines,
        tokens: parsed.tokens(),
        warnings: Vec::new(),
        depth: 0,
        max_depth: 0,
        fields: 0,
    };
    cx.number_warnings(glued_numbers);
    let result = convert_mod(&mut cx, parsed.syntax(), mode).map(|module| super::Parsed {
        module,
        warnings: std::mem::take(&mut cx.warnings),
    });
    (result, cx.max_depth)
}

fn convert_mod(cx: &mut Converter<'_>, syntax: &ruff::Mod, mode: Mode) -> Result<Mod> {
    Ok(match (syntax, mode) {
        (ruff::Mod::Expression(e), _) => Mod::Expression {
            body: Box::new(cx.expr(&e.body)?),
        },
        (ruff::Mod::Module(m), Mode::Interactive) => Mod::Interactive {
            body: cx.stmts(&m.body)?,
        },
        (ruff::Mod::Module(m), _) => Mod::Module {
            body: cx.stmts(&m.body)?,
        },
    })
}

impl<'a> Converter<'a> {
    /// The CPython location of a range.
    #[inline]
    pub fn loc(&self, range: TextRange) -> Loc {
        self.lines.loc(range)
    }

    /// The source text of a range.
    pub fn text(&self, range: TextRange) -> &'a str {
        &self.src[range]
    }

    /// Runs a recursive conversion step one level deeper, on a grown stack if needed (checked
    /// every [`STACK_CHECK_LEVELS`] levels).
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let result = if self.depth > MAX_AST_DEPTH {
            Err(CompileError::too_deep())
        } else if self.depth % STACK_CHECK_LEVELS == 0 {
            stacker::maybe_grow(STACK_RED_ZONE, 1024 * 1024, || f(self))
        } else {
            f(self)
        };
        self.depth -= 1;
        result
    }

    /// The first token starting at or after `offset`, comments and non-logical newlines aside.
    pub fn token_after(&self, offset: TextSize) -> Option<(TokenKind, TextRange)> {
        let at = self.tokens.partition_point(|t| t.start() < offset);
        self.tokens[at..]
            .iter()
            .find(|t| !t.kind().is_trivia())
            .map(|t| (t.kind(), t.range()))
    }

    /// The first token at or after `offset` of the given kind.
    pub fn find_token(&self, offset: TextSize, kind: TokenKind) -> Option<TextRange> {
        let at = self.tokens.partition_point(|t| t.start() < offset);
        self.tokens[at..]
            .iter()
            .find(|t| t.kind() == kind)
            .map(|t| t.range())
    }

    /// The last token ending at or before `offset`, comments and non-logical newlines aside.
    pub fn token_before(&self, offset: TextSize) -> Option<(TokenKind, TextRange)> {
        let at = self.tokens.partition_point(|t| t.end() <= offset);
        self.tokens[..at]
            .iter()
            .rev()
            .find(|t| !t.kind().is_trivia())
            .map(|t| (t.kind(), t.range()))
    }

    /// CPython's tokenizer warns about a number directly followed by a keyword (`1if`).
    fn number_warnings(&mut self, glued_numbers: &[TextRange]) {
        for &number in glued_numbers {
            let kind = super::errors::number_kind(self.text(number));
            self.warn(format!("invalid {kind} literal"), number.start());
        }
    }

    /// Records a `SyntaxWarning` at the line of `offset`.
    pub fn warn(&mut self, msg: String, offset: TextSize) {
        let (lineno, _) = self.lines.position(offset);
        self.warnings.push(Warning {
            category: "SyntaxWarning",
            msg,
            lineno,
        });
    }

    /// A `SyntaxError` covering a range, with CPython's 1-based character offsets.
    pub fn error_at(&self, msg: String, range: TextRange) -> CompileError {
        super::errors::syntax_error(self.src, self.lines, msg, range)
    }
}

/// Drops ruff's tree, whose recursive drop glue needs stack in proportion to its depth:
/// `depth` as the conversion measured it, or `None` when unknown (the conversion stopped early;
/// the depth is then bounded by the source length).
pub(super) fn drop_deep(
    parsed: ruff_python_parser::Parsed<ruff::Mod>,
    depth: Option<usize>,
    source_len: usize,
) {
    // Each level of ruff's tree is at most a few nodes, each well under 256 bytes of drop glue.
    let levels = depth.map_or(source_len, |d| d.saturating_mul(4));
    let stack = levels.saturating_mul(1024).saturating_add(256 * 1024);
    if stack <= 64 * 1024 * 1024 {
        stacker::maybe_grow(stack, stack, || drop(parsed));
        return;
    }
    // A huge source: a thread with a big (lazily committed) stack. If no such thread can be
    // made, the tree is leaked rather than risk overflowing this stack.
    let parsed = std::mem::ManuallyDrop::new(parsed);
    if let Ok(handle) = std::thread::Builder::new()
        .stack_size(stack.min(1 << 36))
        .spawn(move || drop(std::mem::ManuallyDrop::into_inner(parsed)))
    {
        let _ = handle.join();
    }
}
