//! The abstract syntax tree in CPython 3.12's shape (`Parser/Python.asdl`).
//!
//! Every later stage (optimizer, symbol table, code generator) works on this tree, never on the
//! parser's own: the conversion in `parse` makes node kinds and positions equal to what
//! CPython's `ast` module reports, which is what makes bytecode parity reachable.
//!
//! Positions follow CPython: lines are 1-based, columns are 0-based UTF-8 byte offsets.

use pyc_loader::marshal::{Int, Str};

/// An identifier (a name, attribute, keyword, module or alias). Shared: the symbol table's
/// symbols, parameters and name sets hold the tree's strings rather than copies.
pub type Identifier = std::sync::Arc<str>;

/// Where a node starts and ends, as CPython's `lineno`, `col_offset`, `end_lineno`,
/// `end_col_offset` attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Loc {
    /// First line, 1-based.
    pub lineno: u32,
    /// Start column, a UTF-8 byte offset into the first line.
    pub col: u32,
    /// Last line, 1-based.
    pub end_lineno: u32,
    /// End column (exclusive), a UTF-8 byte offset into the last line.
    pub end_col: u32,
}

/// What a source text was compiled as (`compile(..., mode)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `exec`: a module.
    Module,
    /// `eval`: a single expression.
    Expression,
    /// `single`: one interactive statement.
    Interactive,
}

/// A compilation unit's root (`mod`).
#[derive(Clone, Debug, PartialEq)]
pub enum Mod {
    /// `Module(stmt* body, type_ignore* type_ignores)`.
    Module { body: Vec<Stmt> },
    /// `Interactive(stmt* body)`.
    Interactive { body: Vec<Stmt> },
    /// `Expression(expr body)`.
    Expression { body: Box<Expr> },
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub loc: Loc,
    pub kind: StmtKind,
}

/// The statement kinds of `stmt`.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `def` and `async def`.
    FunctionDef(Box<FunctionDef>),
    /// `class`.
    ClassDef(Box<ClassDef>),
    Return {
        value: Option<Box<Expr>>,
    },
    Delete {
        targets: Vec<Expr>,
    },
    Assign {
        targets: Vec<Expr>,
        value: Box<Expr>,
    },
    /// `type X[T] = ...` (PEP 695).
    TypeAlias(Box<TypeAlias>),
    AugAssign {
        target: Box<Expr>,
        op: Operator,
        value: Box<Expr>,
    },
    /// `target: annotation [= value]`; `simple` when the target is a bare name not in parentheses.
    AnnAssign {
        target: Box<Expr>,
        annotation: Box<Expr>,
        value: Option<Box<Expr>>,
        simple: bool,
    },
    /// `for` and `async for`.
    For(Box<For>),
    While {
        test: Box<Expr>,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    /// `if`; an `elif` is an `If` alone in `orelse`.
    If {
        test: Box<Expr>,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    /// `with` and `async with`.
    With(Box<With>),
    Match {
        subject: Box<Expr>,
        cases: Vec<MatchCase>,
    },
    Raise {
        exc: Option<Box<Expr>>,
        cause: Option<Box<Expr>>,
    },
    /// `try` (`is_star` false) and `try`/`except*` (`TryStar`).
    Try(Box<Try>),
    Assert {
        test: Box<Expr>,
        msg: Option<Box<Expr>>,
    },
    Import {
        names: Vec<Alias>,
    },
    /// `from module import names`; `level` counts the leading dots.
    ImportFrom {
        module: Option<Identifier>,
        names: Vec<Alias>,
        level: u32,
    },
    Global {
        names: Vec<Identifier>,
    },
    Nonlocal {
        names: Vec<Identifier>,
    },
    /// An expression statement.
    Expr {
        value: Box<Expr>,
    },
    Pass,
    Break,
    Continue,
}

/// `FunctionDef` / `AsyncFunctionDef`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub is_async: bool,
    pub name: Identifier,
    pub args: Arguments,
    pub body: Vec<Stmt>,
    pub decorator_list: Vec<Expr>,
    pub returns: Option<Expr>,
    pub type_params: Vec<TypeParam>,
}

/// `ClassDef`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDef {
    pub name: Identifier,
    pub bases: Vec<Expr>,
    pub keywords: Vec<Keyword>,
    pub body: Vec<Stmt>,
    pub decorator_list: Vec<Expr>,
    pub type_params: Vec<TypeParam>,
}

/// `TypeAlias(expr name, type_param* type_params, expr value)`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAlias {
    /// Always a `Name` in store context.
    pub name: Expr,
    pub type_params: Vec<TypeParam>,
    pub value: Expr,
}

/// `For` / `AsyncFor`.
#[derive(Clone, Debug, PartialEq)]
pub struct For {
    pub is_async: bool,
    pub target: Expr,
    pub iter: Expr,
    pub body: Vec<Stmt>,
    pub orelse: Vec<Stmt>,
}

/// `With` / `AsyncWith`.
#[derive(Clone, Debug, PartialEq)]
pub struct With {
    pub is_async: bool,
    pub items: Vec<WithItem>,
    pub body: Vec<Stmt>,
}

/// `Try` / `TryStar`.
#[derive(Clone, Debug, PartialEq)]
pub struct Try {
    /// `except*` handlers (`TryStar`).
    pub is_star: bool,
    pub body: Vec<Stmt>,
    pub handlers: Vec<ExceptHandler>,
    pub orelse: Vec<Stmt>,
    pub finalbody: Vec<Stmt>,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub loc: Loc,
    pub kind: ExprKind,
}

/// The expression kinds of `expr`.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    BoolOp {
        op: BoolOp,
        values: Vec<Expr>,
    },
    /// `target := value`; the target is a `Name` in store context.
    NamedExpr {
        target: Box<Expr>,
        value: Box<Expr>,
    },
    BinOp {
        left: Box<Expr>,
        op: Operator,
        right: Box<Expr>,
    },
    UnaryOp {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Lambda {
        args: Box<Arguments>,
        body: Box<Expr>,
    },
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// `{k: v, **m}`: a `None` key is a `**` unpacking of its value.
    Dict {
        keys: Vec<Option<Expr>>,
        values: Vec<Expr>,
    },
    Set {
        elts: Vec<Expr>,
    },
    ListComp {
        elt: Box<Expr>,
        generators: Vec<Comprehension>,
    },
    SetComp {
        elt: Box<Expr>,
        generators: Vec<Comprehension>,
    },
    DictComp {
        key: Box<Expr>,
        value: Box<Expr>,
        generators: Vec<Comprehension>,
    },
    GeneratorExp {
        elt: Box<Expr>,
        generators: Vec<Comprehension>,
    },
    Await {
        value: Box<Expr>,
    },
    Yield {
        value: Option<Box<Expr>>,
    },
    YieldFrom {
        value: Box<Expr>,
    },
    /// `left op0 c0 op1 c1 ...`; `ops` and `comparators` have the same length.
    Compare {
        left: Box<Expr>,
        ops: Vec<CmpOp>,
        comparators: Vec<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
    /// A replacement field of an f-string.
    FormattedValue {
        value: Box<Expr>,
        conversion: Conversion,
        /// Always a `JoinedStr` when present.
        format_spec: Option<Box<Expr>>,
    },
    /// An f-string: `Constant` strings and `FormattedValue`s.
    JoinedStr {
        values: Vec<Expr>,
    },
    Constant {
        value: Constant,
        kind_u: bool,
    },
    Attribute {
        value: Box<Expr>,
        attr: Identifier,
        ctx: ExprContext,
    },
    Subscript {
        value: Box<Expr>,
        slice: Box<Expr>,
        ctx: ExprContext,
    },
    Starred {
        value: Box<Expr>,
        ctx: ExprContext,
    },
    Name {
        id: Identifier,
        ctx: ExprContext,
    },
    List {
        elts: Vec<Expr>,
        ctx: ExprContext,
    },
    Tuple {
        elts: Vec<Expr>,
        ctx: ExprContext,
    },
    Slice {
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
}

/// A constant value, as `ast.Constant.value` holds it. Tuples and frozensets only appear after
/// constant folding.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    None,
    Bool(bool),
    Ellipsis,
    Int(Int),
    Float(f64),
    /// A complex number (real, imaginary).
    Complex(f64, f64),
    /// A `str`; may hold lone surrogates (`"\ud800"`).
    Str(Str),
    Bytes(Vec<u8>),
    Tuple(Vec<Constant>),
    FrozenSet(Vec<Constant>),
}

/// `expr_context`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprContext {
    Load,
    Store,
    Del,
}

/// `boolop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
}

/// `operator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Add,
    Sub,
    Mult,
    MatMult,
    Div,
    Mod,
    Pow,
    LShift,
    RShift,
    BitOr,
    BitXor,
    BitAnd,
    FloorDiv,
}

/// `unaryop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Invert,
    Not,
    UAdd,
    USub,
}

/// `cmpop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

/// `FormattedValue.conversion`: none (-1), `!s`, `!r`, `!a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    None,
    Str,
    Repr,
    Ascii,
}

/// `comprehension(expr target, expr iter, expr* ifs, int is_async)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comprehension {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
    pub is_async: bool,
}

/// `ExceptHandler(expr? type, identifier? name, stmt* body)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptHandler {
    pub loc: Loc,
    pub type_: Option<Expr>,
    pub name: Option<Identifier>,
    pub body: Vec<Stmt>,
}

/// `arguments`: a function's parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Arguments {
    pub posonlyargs: Vec<Arg>,
    pub args: Vec<Arg>,
    pub vararg: Option<Arg>,
    pub kwonlyargs: Vec<Arg>,
    /// One per keyword-only parameter; `None` where it has no default.
    pub kw_defaults: Vec<Option<Expr>>,
    pub kwarg: Option<Arg>,
    /// Defaults of the last positional parameters (`posonlyargs` then `args`).
    pub defaults: Vec<Expr>,
}

/// `arg(identifier arg, expr? annotation)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub loc: Loc,
    pub arg: Identifier,
    pub annotation: Option<Box<Expr>>,
}

/// `keyword(identifier? arg, expr value)`; no name means `**value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyword {
    pub loc: Loc,
    pub arg: Option<Identifier>,
    pub value: Expr,
}

/// `alias(identifier name, identifier? asname)`; `name` may be dotted or `*`.
#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    pub loc: Loc,
    pub name: Identifier,
    pub asname: Option<Identifier>,
}

/// `withitem(expr context_expr, expr? optional_vars)`.
#[derive(Clone, Debug, PartialEq)]
pub struct WithItem {
    pub context_expr: Expr,
    pub optional_vars: Option<Expr>,
}

/// `match_case(pattern pattern, expr? guard, stmt* body)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchCase {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Vec<Stmt>,
}

/// A `match` pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub loc: Loc,
    pub kind: PatternKind,
}

/// The pattern kinds of `pattern`.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    MatchValue {
        value: Box<Expr>,
    },
    /// `None`, `True` or `False`.
    MatchSingleton {
        value: Constant,
    },
    MatchSequence {
        patterns: Vec<Pattern>,
    },
    MatchMapping {
        keys: Vec<Expr>,
        patterns: Vec<Pattern>,
        rest: Option<Identifier>,
    },
    MatchClass {
        cls: Box<Expr>,
        patterns: Vec<Pattern>,
        kwd_attrs: Vec<Identifier>,
        kwd_patterns: Vec<Pattern>,
    },
    MatchStar {
        name: Option<Identifier>,
    },
    MatchAs {
        pattern: Option<Box<Pattern>>,
        name: Option<Identifier>,
    },
    MatchOr {
        patterns: Vec<Pattern>,
    },
}

/// A PEP 695 type parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeParam {
    pub loc: Loc,
    pub kind: TypeParamKind,
}

/// `type_param`.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeParamKind {
    TypeVar {
        name: Identifier,
        bound: Option<Box<Expr>>,
    },
    ParamSpec {
        name: Identifier,
    },
    TypeVarTuple {
        name: Identifier,
    },
}
