//! Printing an uncaught exception as CPython 3.12 does: the chain of causes and contexts, each
//! with "Traceback (most recent call last):", file/line/function entries, the source line and
//! its caret line, and the `Type: message` line.

use std::rc::Rc;

use crate::objects::Instance;
use crate::value::Value;
use crate::vm::Vm;

fn source_line(filename: &str, line: i32) -> Option<String> {
    let text = std::fs::read_to_string(filename).ok()?;
    text.lines()
        .nth(usize::try_from(line - 1).ok()?)
        .map(str::to_owned)
}

/// Where a nested exception-group member is printed: CPython's `_ExceptionPrintContext`.
#[derive(Default)]
struct Ctx {
    /// Exception-group nesting depth (0: not inside a group).
    depth: usize,
    /// Whether the last member still needs its closing `+---` line.
    need_close: bool,
}

/// Exception-group members printed per group before "and N more exceptions".
const MAX_GROUP_WIDTH: usize = 15;
/// Exception-group nesting printed before "... (max_group_depth is N)".
const MAX_GROUP_DEPTH: usize = 10;

impl Ctx {
    fn indent(&self) -> String {
        " ".repeat(2 * self.depth)
    }

    /// Appends `text`, each line prefixed by the indent and, inside a group, the margin.
    fn emit(&self, out: &mut String, text: &str, margin: char) {
        let mut prefix = self.indent();
        if self.depth > 0 {
            prefix.push(margin);
            prefix.push(' ');
        }
        for line in text.split_inclusive('\n') {
            out.push_str(&prefix);
            out.push_str(line);
        }
    }
}

impl Vm {
    /// The text CPython prints on stderr for the uncaught exception `exc`.
    pub fn format_exception(&mut self, exc: &Rc<Instance>) -> String {
        let mut out = String::new();
        let mut seen = Vec::new();
        self.format_chain(exc, &mut out, &mut seen, &mut Ctx::default());
        out
    }

    fn format_chain(
        &mut self,
        exc: &Rc<Instance>,
        out: &mut String,
        seen: &mut Vec<usize>,
        ctx: &mut Ctx,
    ) {
        seen.push(Rc::as_ptr(exc) as usize);
        if let Some(data) = &exc.exc {
            let (cause, context, suppress) = {
                let d = data.borrow();
                (d.cause.clone(), d.context.clone(), d.suppress_context)
            };
            if let Value::Instance(c) = &cause {
                if !seen.contains(&(Rc::as_ptr(c) as usize)) {
                    self.format_chain(c, out, seen, ctx);
                    ctx.emit(
                        out,
                        "\nThe above exception was the direct cause of the following exception:\n\n",
                        '|',
                    );
                }
            } else if let (Value::Instance(c), false) = (&context, suppress) {
                if !seen.contains(&(Rc::as_ptr(c) as usize)) {
                    self.format_chain(c, out, seen, ctx);
                    ctx.emit(
                        out,
                        "\nDuring handling of the above exception, another exception occurred:\n\n",
                        '|',
                    );
                }
            }
        }
        let members = crate::excgroup::sub_exceptions(self, exc);
        let stack = self.format_stack(exc);
        let only = self.format_exception_only(exc);
        if !crate::excgroup::is_group(self, &Value::Instance(exc.clone())) {
            if !stack.is_empty() {
                ctx.emit(out, "Traceback (most recent call last):\n", '|');
                ctx.emit(out, &stack, '|');
            }
            ctx.emit(out, &only, '|');
            return;
        }
        if ctx.depth > MAX_GROUP_DEPTH {
            ctx.emit(
                out,
                &format!("... (max_group_depth is {MAX_GROUP_DEPTH})\n"),
                '|',
            );
            return;
        }
        let toplevel = ctx.depth == 0;
        if toplevel {
            ctx.depth += 1;
        }
        if !stack.is_empty() {
            ctx.emit(
                out,
                "Exception Group Traceback (most recent call last):\n",
                if toplevel { '+' } else { '|' },
            );
            ctx.emit(out, &stack, '|');
        }
        ctx.emit(out, &only, '|');
        let n = members.len().min(MAX_GROUP_WIDTH + 1);
        ctx.need_close = false;
        for (i, member) in members.iter().take(n).enumerate() {
            let last = i == n - 1;
            if last {
                ctx.need_close = true;
            }
            let truncated = i >= MAX_GROUP_WIDTH;
            let title = if truncated {
                "...".to_owned()
            } else {
                (i + 1).to_string()
            };
            out.push_str(&format!(
                "{}{}+---------------- {title} ----------------\n",
                ctx.indent(),
                if i == 0 { "+-" } else { "  " }
            ));
            ctx.depth += 1;
            if truncated {
                let remaining = members.len() - MAX_GROUP_WIDTH;
                ctx.emit(
                    out,
                    &format!(
                        "and {remaining} more exception{}\n",
                        if remaining > 1 { "s" } else { "" }
                    ),
                    '|',
                );
            } else {
                self.format_chain(member, out, seen, ctx);
            }
            if last && ctx.need_close {
                out.push_str(&format!(
                    "{}+------------------------------------\n",
                    ctx.indent()
                ));
                ctx.need_close = false;
            }
            ctx.depth -= 1;
        }
        if toplevel {
            ctx.depth = 0;
        }
    }

    /// The traceback entries of `exc`, outermost first (without the header line).
    fn format_stack(&mut self, exc: &Rc<Instance>) -> String {
        let mut text = String::new();
        let out = &mut text;
        let entries = exc
            .exc
            .as_ref()
            .map(|d| d.borrow().traceback.clone())
            .unwrap_or_default();
        // CPython prints a run of identical entries three times, then a count of the rest.
        let mut last: Option<(usize, i32)> = None;
        let mut repeats = 0usize;
        let flush_repeats = |out: &mut String, repeats: usize| {
            if repeats > 3 {
                let n = repeats - 3;
                out.push_str(&format!(
                    "  [Previous line repeated {n} more time{}]\n",
                    if n == 1 { "" } else { "s" }
                ));
            }
        };
        for (code, at) in entries.iter().rev() {
            let pos = code.position(*at);
            let line = pos.line.unwrap_or(code.firstlineno());
            let key = (Rc::as_ptr(code) as usize, line);
            if last == Some(key) {
                repeats += 1;
            } else {
                flush_repeats(out, repeats);
                last = Some(key);
                repeats = 1;
            }
            if repeats > 3 {
                continue;
            }
            out.push_str(&format!(
                "  File \"{}\", line {}, in {}\n",
                code.filename.as_str(),
                line,
                code.name.as_str()
            ));
            if let Some(src) = source_line(code.filename.as_str(), line) {
                let stripped = src.trim_start();
                if stripped.is_empty() {
                    continue;
                }
                out.push_str(&format!("    {}\n", stripped.trim_end()));
                if let Some(carets) = caret_line(&src, &pos) {
                    out.push_str(&carets);
                }
            }
        }
        flush_repeats(out, repeats);
        text
    }

    /// The `Type: message` line of `exc`.
    fn format_exception_only(&mut self, exc: &Rc<Instance>) -> String {
        if let Some(text) = crate::compiling::syntax_error_text(exc) {
            return text;
        }
        let t = &exc.class;
        let module = t.module_name();
        let name = if module == "builtins" || module == "__main__" {
            t.qualname.borrow().as_str().to_owned()
        } else {
            format!("{module}.{}", t.qualname.borrow().as_str())
        };
        let msg = self
            .str_of(&Value::Instance(exc.clone()))
            .unwrap_or_else(|_| "<exception str() failed>".into());
        let mut text = if msg.is_empty() {
            format!("{name}\n")
        } else {
            format!("{name}: {msg}\n")
        };
        // PEP 678 notes, one line each.
        match exc.dict.get_str(&crate::pystr::intern("__notes__")) {
            None => {}
            Some(notes @ (Value::List(_) | Value::Tuple(_))) => {
                for note in self.to_vec(&notes).unwrap_or_default() {
                    let note = self
                        .str_of(&note)
                        .unwrap_or_else(|_| "<note str() failed>".into());
                    for line in note.split('\n') {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
            Some(other) => {
                let r = self
                    .repr(&other)
                    .unwrap_or_else(|_| "<__notes__ repr() failed>".into());
                text.push_str(&r);
                text.push('\n');
            }
        }
        text
    }
}

/// The `^^^` line under the failing expression, when it does not span the whole line.
fn caret_line(src: &str, pos: &pyc_loader::linetable::Position) -> Option<String> {
    let (line, end_line, col, end_col) = (pos.line?, pos.end_line?, pos.col?, pos.end_col?);
    if line != end_line {
        return None;
    }
    // Columns are UTF-8 byte offsets.
    let bytes = src.as_bytes();
    let (col, end_col) = (col as usize, (end_col as usize).min(bytes.len()));
    if col >= end_col {
        return None;
    }
    let indent = src.len() - src.trim_start().len();
    let trimmed_end = src.trim_end().len();
    let segment = String::from_utf8_lossy(&bytes[col..end_col]).into_owned();
    let anchor = binop_anchor(&segment).or_else(|| subscript_anchor(&segment));
    // A whole-line span gets carets only when an anchor singles out part of it.
    if col <= indent && end_col >= trimmed_end && anchor.is_none_or(|(a, b)| b <= a) {
        return None;
    }
    let width = |s: &[u8]| String::from_utf8_lossy(s).chars().count();
    let lead = width(&bytes[indent..col.max(indent)]);
    let span = width(&bytes[col..end_col]);
    let marks = match anchor {
        Some((start, end)) => segment
            .chars()
            .enumerate()
            .map(|(i, _)| if (start..end).contains(&i) { '^' } else { '~' })
            .collect(),
        None => "^".repeat(span),
    };
    Some(format!("    {}{marks}\n", " ".repeat(lead)))
}

/// The character range of `[...]` when `segment` is a subscript `value[...]`.
fn subscript_anchor(segment: &str) -> Option<(usize, usize)> {
    let cs: Vec<char> = segment.chars().collect();
    if cs.last() != Some(&']') {
        return None;
    }
    let mut depth = 0;
    for i in (0..cs.len()).rev() {
        match cs[i] {
            ']' | ')' | '}' => depth += 1,
            '[' | '(' | '{' => {
                depth -= 1;
                if depth == 0 {
                    return (cs[i] == '[' && i > 0).then_some((i, cs.len()));
                }
            }
            _ => {}
        }
    }
    None
}

/// The character range of the operator when `segment` is a binary operation (CPython anchors
/// its carets there): the rightmost top-level operator of the lowest precedence.
fn binop_anchor(segment: &str) -> Option<(usize, usize)> {
    const OPS: [(&str, u8); 13] = [
        ("**", 7),
        ("//", 5),
        ("<<", 3),
        (">>", 3),
        ("|", 0),
        ("^", 1),
        ("&", 2),
        ("+", 4),
        ("-", 4),
        ("*", 5),
        ("/", 5),
        ("%", 5),
        ("@", 5),
    ];
    let cs: Vec<char> = segment.chars().collect();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut best: Option<(u8, usize, usize)> = None;
    let mut prev_operand = false;
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if let Some(q) = quote {
            if c == '\\' {
                i += 1;
            } else if c == q {
                quote = None;
                prev_operand = true;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                prev_operand = true;
            }
            c if c.is_whitespace() => {}
            _ if depth == 0 => {
                let rest: String = cs[i..].iter().take(2).collect();
                if let Some((op, prec)) = OPS.iter().find(|(op, _)| rest.starts_with(op)) {
                    let n = op.chars().count();
                    if prev_operand && cs.get(i + n) != Some(&'=') {
                        let better = match best {
                            None => true,
                            Some((p, ..)) => *prec < p || (*prec == p && *prec != 7),
                        };
                        if better {
                            best = Some((*prec, i, i + n));
                        }
                        prev_operand = false;
                        i += n;
                        continue;
                    }
                }
                prev_operand = c.is_alphanumeric() || c == '_' || c == '.';
            }
            _ => {}
        }
        i += 1;
    }
    best.map(|(_, s, e)| (s, e))
}
