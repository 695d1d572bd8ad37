//! Compile-time analysis of option strings: classification (literal, typed expression or
//! template), static checks, and the rewrite that makes fallbacks safe.
//!
//! The environment runs in minijinja's `SemiStrict` mode, which makes every use of a missing
//! value an error except testing it for truth. That is what we want everywhere but in one
//! place: a lookup chain such as `alert.body.x.y` in a *fallback position* (the left side of
//! `or`/`and`, the operand of `not`, `if`, `default` and `is defined`) must yield "missing"
//! even when `alert.body.x` is already missing, so that `a.x.y or b` and
//! `a.x.y | default(v)` work. minijinja only offers that (`Chainable`) for the whole
//! environment, where it would also silence comparisons and filters. So the parser's AST
//! (minijinja's `unstable_machinery` API, pinned by `Cargo.lock`) is walked here, and every
//! lookup chain in a fallback position is rewritten in the source text from `a.x["y"]` to
//! `a|__chain("x")|__chain("y")`, a filter that stays undefined once a step is missing. All
//! other lookups keep minijinja's native, strict behaviour and its error messages, which name
//! the missing expression.
//!
//! The same walk rejects what can be known to be wrong before anything runs: unknown
//! filters, tests and functions, and tags that would load other templates.

use std::collections::HashSet;

use minijinja::machinery::{ast, parse, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind};

/// The name of the filter that walks a lookup chain and stops at the first missing step.
pub(crate) const CHAIN_FILTER: &str = "__chain";

/// Most operators in one `{{ }}` or `{% %}` block. minijinja compiles and evaluates
/// expressions recursively, so a chain of thousands of operators (`1+1+1…`) would overflow
/// the stack; real expressions stay far below this.
pub(crate) const MAX_OPERATORS_PER_BLOCK: usize = 500;

/// What an option string is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No `{{` or `{%`: used as is.
    Literal,
    /// Exactly one `{{ expr }}` (surrounding whitespace allowed); the rewritten expression.
    Typed(String),
    /// Any other string with `{{`/`{%`; the rewritten template source.
    Template(String),
}

/// Whether `text` needs the template engine at all.
pub(crate) fn has_markup(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Classifies, checks and rewrites one option string.
pub(crate) fn analyse_string(text: &str, env: &Environment<'static>) -> Result<Shape, String> {
    if !has_markup(text) {
        return Ok(Shape::Literal);
    }
    check_size(text, false)?;
    let stmt =
        parse(text, "option", SyntaxConfig::default()).map_err(|err| describe(&err, text))?;
    let mut walker = Walker::new(text, env);
    walker.bind_stmt_names(&stmt);
    walker.stmt(&stmt);
    walker.finish()?;
    if let Some(span) = single_emit(&stmt) {
        let (start, end) = (span.start_offset as usize, span.end_offset as usize);
        return walker.apply(start, end).map(Shape::Typed);
    }
    walker.apply(0, text.len()).map(Shape::Template)
}

/// Checks and rewrites a bare expression (no `{{ }}`).
pub(crate) fn analyse_expression(text: &str, env: &Environment<'static>) -> Result<String, String> {
    check_size(text, true)?;
    let expr = minijinja::machinery::parse_expr(text).map_err(|err| describe(&err, text))?;
    let mut walker = Walker::new(text, env);
    walker.expr(&expr, false);
    walker.finish()?;
    walker.apply(0, text.len())
}

/// Refuses blocks with more than [`MAX_OPERATORS_PER_BLOCK`] operators, before anything
/// recursive runs. Syntax errors are left to the parser, which describes them better.
fn check_size(text: &str, in_expr: bool) -> Result<(), String> {
    use minijinja::machinery::Token;
    let mut operators = 0;
    for token in tokenize(text, in_expr, SyntaxConfig::default()) {
        let Ok((token, _)) = token else {
            return Ok(());
        };
        match token {
            Token::VariableStart | Token::BlockStart | Token::TemplateData(_) => operators = 0,
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::FloorDiv
            | Token::Pow
            | Token::Mod
            | Token::Dot
            | Token::Tilde
            | Token::Pipe
            | Token::Eq
            | Token::Ne
            | Token::Gt
            | Token::Gte
            | Token::Lt
            | Token::Lte
            | Token::BracketOpen
            | Token::ParenOpen
            | Token::BraceOpen
            | Token::Ident("and" | "or" | "not" | "is" | "in" | "if") => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS_PER_BLOCK {
            return Err(format!(
                "an expression has more than {MAX_OPERATORS_PER_BLOCK} operators; split it into \
                 several steps"
            ));
        }
    }
    Ok(())
}

/// The span of the expression when the template is exactly one `{{ expr }}` surrounded by
/// whitespace only.
fn single_emit(stmt: &ast::Stmt<'_>) -> Option<minijinja::machinery::Span> {
    let ast::Stmt::Template(template) = stmt else {
        return None;
    };
    let mut found = None;
    for child in &template.children {
        match child {
            ast::Stmt::EmitRaw(raw) if raw.raw.trim().is_empty() => {}
            ast::Stmt::EmitExpr(emit) if found.is_none() => found = Some(emit.span()),
            _ => return None,
        }
    }
    found
}

/// A syntax error as one line: what is wrong, and where when the text has several lines.
pub(crate) fn describe(err: &minijinja::Error, text: &str) -> String {
    let mut message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    if text.contains('\n')
        && let Some(line) = err.line()
    {
        message.push_str(&format!(" on line {line}"));
    }
    message
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

struct Walker<'s, 'e> {
    source: &'s str,
    env: &'e Environment<'static>,
    edits: Vec<Edit>,
    problems: Vec<String>,
    /// Names bound inside the template (macros, `set`, loop and macro variables): calls to
    /// them are not calls to unknown functions.
    bound: HashSet<&'s str>,
    globals: HashSet<String>,
}

impl<'s, 'e> Walker<'s, 'e> {
    fn new(source: &'s str, env: &'e Environment<'static>) -> Self {
        Self {
            source,
            env,
            edits: Vec::new(),
            problems: Vec::new(),
            bound: ["loop", "caller", "self", "super", "varargs", "kwargs"]
                .into_iter()
                .collect(),
            globals: env.globals().map(|(name, _)| name.to_string()).collect(),
        }
    }

    fn finish(&self) -> Result<(), String> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems.join("; "))
        }
    }

    fn problem(&mut self, message: String) {
        if !self.problems.contains(&message) {
            self.problems.push(message);
        }
    }

    /// The source text between `start` and `end` with all edits applied.
    fn apply(&mut self, start: usize, end: usize) -> Result<String, String> {
        self.edits.sort_by_key(|edit| edit.start);
        let mut out = String::with_capacity(end.saturating_sub(start) + 16 * self.edits.len());
        let mut cursor = start;
        for edit in &self.edits {
            if edit.start < cursor || edit.end < edit.start || edit.end > end {
                return Err(internal());
            }
            out.push_str(self.source.get(cursor..edit.start).ok_or_else(internal)?);
            out.push_str(&edit.text);
            cursor = edit.end;
        }
        out.push_str(self.source.get(cursor..end).ok_or_else(internal)?);
        Ok(out)
    }

    // --- names bound by the template itself -------------------------------------------

    fn bind_target(&mut self, target: &ast::Expr<'s>) {
        match target {
            ast::Expr::Var(var) => {
                self.bound.insert(var.id);
            }
            ast::Expr::Tuple(tuple) => tuple.items.iter().for_each(|item| self.bind_target(item)),
            ast::Expr::List(list) => list.items.iter().for_each(|item| self.bind_target(item)),
            _ => {}
        }
    }

    fn bind_stmt_names(&mut self, stmt: &ast::Stmt<'s>) {
        match stmt {
            ast::Stmt::Template(t) => self.bind_body(&t.children),
            ast::Stmt::ForLoop(f) => {
                self.bind_target(&f.target);
                self.bind_body(&f.body);
                self.bind_body(&f.else_body);
            }
            ast::Stmt::IfCond(i) => {
                self.bind_body(&i.true_body);
                self.bind_body(&i.false_body);
            }
            ast::Stmt::WithBlock(w) => {
                for (target, _) in &w.assignments {
                    self.bind_target(target);
                }
                self.bind_body(&w.body);
            }
            ast::Stmt::Set(s) => self.bind_target(&s.target),
            ast::Stmt::SetBlock(s) => {
                self.bind_target(&s.target);
                self.bind_body(&s.body);
            }
            ast::Stmt::AutoEscape(a) => self.bind_body(&a.body),
            ast::Stmt::FilterBlock(f) => self.bind_body(&f.body),
            ast::Stmt::Block(b) => self.bind_body(&b.body),
            ast::Stmt::Macro(m) => {
                self.bound.insert(m.name);
                self.bind_macro(m);
            }
            ast::Stmt::CallBlock(c) => self.bind_macro(&c.macro_decl),
            ast::Stmt::FromImport(_)
            | ast::Stmt::Import(_)
            | ast::Stmt::Extends(_)
            | ast::Stmt::Include(_)
            | ast::Stmt::EmitExpr(_)
            | ast::Stmt::EmitRaw(_)
            | ast::Stmt::Continue(_)
            | ast::Stmt::Break(_)
            | ast::Stmt::Do(_) => {}
        }
    }

    fn bind_macro(&mut self, m: &ast::Macro<'s>) {
        for arg in &m.args {
            self.bind_target(arg);
        }
        self.bind_body(&m.body);
    }

    fn bind_body(&mut self, body: &[ast::Stmt<'s>]) {
        for stmt in body {
            self.bind_stmt_names(stmt);
        }
    }

    // --- the walk -----------------------------------------------------------------------

    fn body(&mut self, body: &[ast::Stmt<'s>]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &ast::Stmt<'s>) {
        match stmt {
            ast::Stmt::Template(t) => self.body(&t.children),
            ast::Stmt::EmitExpr(e) => self.expr(&e.expr, false),
            ast::Stmt::EmitRaw(_) | ast::Stmt::Continue(_) | ast::Stmt::Break(_) => {}
            ast::Stmt::ForLoop(f) => {
                self.expr(&f.iter, false);
                if let Some(filter) = &f.filter_expr {
                    self.expr(filter, true);
                }
                self.body(&f.body);
                self.body(&f.else_body);
            }
            ast::Stmt::IfCond(i) => {
                self.expr(&i.expr, true);
                self.body(&i.true_body);
                self.body(&i.false_body);
            }
            ast::Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value, false);
                }
                self.body(&w.body);
            }
            ast::Stmt::Set(s) => {
                if let ast::Expr::GetAttr(target) = &s.target {
                    self.expr(&target.expr, false);
                }
                self.expr(&s.expr, false);
            }
            ast::Stmt::SetBlock(s) => {
                if let Some(filter) = &s.filter {
                    self.expr(filter, false);
                }
                self.body(&s.body);
            }
            ast::Stmt::AutoEscape(a) => {
                self.expr(&a.enabled, false);
                self.body(&a.body);
            }
            ast::Stmt::FilterBlock(f) => {
                self.expr(&f.filter, false);
                self.body(&f.body);
            }
            ast::Stmt::Block(b) => self.body(&b.body),
            ast::Stmt::Macro(m) => self.macro_decl(m),
            ast::Stmt::CallBlock(c) => {
                self.call(&c.call);
                self.macro_decl(&c.macro_decl);
            }
            ast::Stmt::Do(d) => self.call(&d.call),
            ast::Stmt::Extends(_) => self.no_loading("extends"),
            ast::Stmt::Include(_) => self.no_loading("include"),
            ast::Stmt::Import(_) | ast::Stmt::FromImport(_) => self.no_loading("import"),
        }
    }

    fn no_loading(&mut self, tag: &str) {
        self.problem(format!(
            "`{{% {tag} %}}` is not available: an option cannot load other templates"
        ));
    }

    fn macro_decl(&mut self, m: &ast::Macro<'s>) {
        for default in &m.defaults {
            self.expr(default, false);
        }
        self.body(&m.body);
    }

    /// Walks an expression; `fallback` is true where a missing value is tested for truth or
    /// presence rather than used.
    fn expr(&mut self, expr: &ast::Expr<'s>, fallback: bool) {
        match expr {
            ast::Expr::Var(_) | ast::Expr::Const(_) => {}
            ast::Expr::GetAttr(_) | ast::Expr::GetItem(_) if fallback => self.safe_chain(expr),
            ast::Expr::GetAttr(g) => self.expr(&g.expr, false),
            ast::Expr::GetItem(g) => {
                self.expr(&g.expr, false);
                self.expr(&g.subscript_expr, false);
            }
            ast::Expr::Slice(s) => {
                self.expr(&s.expr, false);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part, false);
                }
            }
            ast::Expr::UnaryOp(u) => {
                self.expr(&u.expr, matches!(u.op, ast::UnaryOpKind::Not));
            }
            ast::Expr::BinOp(b) => match b.op {
                ast::BinOpKind::ScAnd | ast::BinOpKind::ScOr => {
                    self.expr(&b.left, true);
                    self.expr(&b.right, fallback);
                }
                _ => {
                    self.expr(&b.left, false);
                    self.expr(&b.right, false);
                }
            },
            ast::Expr::Compare(c) => {
                self.expr(&c.expr, false);
                for op in &c.ops {
                    self.expr(&op.expr, false);
                }
            }
            ast::Expr::IfExpr(i) => {
                self.expr(&i.test_expr, true);
                self.expr(&i.true_expr, fallback);
                if let Some(false_expr) = &i.false_expr {
                    self.expr(false_expr, fallback);
                }
            }
            ast::Expr::Filter(f) => {
                self.check_filter(f.name);
                if let Some(operand) = &f.expr {
                    self.expr(operand, matches!(f.name, "default" | "d"));
                }
                self.args(&f.args);
            }
            ast::Expr::Test(t) => {
                self.check_test(t.name);
                self.expr(&t.expr, matches!(t.name, "defined" | "undefined"));
                self.args(&t.args);
            }
            ast::Expr::Call(c) => self.call(c),
            ast::Expr::List(l) => l.items.iter().for_each(|item| self.expr(item, false)),
            ast::Expr::Tuple(t) => t.items.iter().for_each(|item| self.expr(item, false)),
            ast::Expr::Map(m) => {
                for item in m.keys.iter().chain(m.values.iter()) {
                    self.expr(item, false);
                }
            }
        }
    }

    fn call(&mut self, call: &ast::Call<'s>) {
        match &call.expr {
            ast::Expr::Var(var) => self.check_function(var.id),
            // A method call: the receiver is used, not tested.
            ast::Expr::GetAttr(method) => self.expr(&method.expr, false),
            other => self.expr(other, false),
        }
        self.args(&call.args);
    }

    fn args(&mut self, args: &[ast::CallArg<'s>]) {
        for arg in args {
            match arg {
                ast::CallArg::Pos(e)
                | ast::CallArg::Kwarg(_, e)
                | ast::CallArg::PosSplat(e)
                | ast::CallArg::KwargSplat(e) => self.expr(e, false),
            }
        }
    }

    fn check_filter(&mut self, name: &str) {
        if name == CHAIN_FILTER {
            return;
        }
        let mut state = self.env.empty_state();
        if let Err(err) = state.apply_filter(name, &[])
            && err.kind() == ErrorKind::UnknownFilter
        {
            self.problem(format!("unknown filter `{name}`"));
        }
    }

    fn check_test(&mut self, name: &str) {
        let mut state = self.env.empty_state();
        if let Err(err) = state.perform_test(name, &[])
            && err.kind() == ErrorKind::UnknownTest
        {
            self.problem(format!("unknown test `{name}`"));
        }
    }

    fn check_function(&mut self, name: &str) {
        if !self.globals.contains(name) && !self.bound.contains(name) {
            self.problem(format!("unknown function `{name}()`"));
        }
    }

    /// Rewrites the lookup chain `expr` (a `GetAttr`/`GetItem` in a fallback position) from
    /// `a.x[k]` to `a|__chain("x")|__chain(k)`. Only the postfix tokens are replaced, using
    /// end offsets (the parser's start offsets of postfix nodes are not reliable), so
    /// parentheses and nested expressions stay as written.
    fn safe_chain(&mut self, expr: &ast::Expr<'s>) {
        let mut steps = Vec::new();
        let mut base = expr;
        loop {
            match base {
                ast::Expr::GetAttr(g) => {
                    steps.push(base);
                    base = &g.expr;
                }
                ast::Expr::GetItem(g) => {
                    steps.push(base);
                    base = &g.expr;
                }
                _ => break,
            }
        }
        steps.reverse();
        self.expr(base, false);

        let mut previous_end = base.span().end_offset as usize;
        for step in steps {
            let step_end = step.span().end_offset as usize;
            let Some(at) = self.postfix_start(previous_end) else {
                self.problem(internal());
                return;
            };
            let bracket = self.source.as_bytes().get(at) == Some(&b'[');
            match step {
                ast::Expr::GetAttr(g) => self.edits.push(Edit {
                    start: at,
                    end: step_end,
                    text: format!("|{CHAIN_FILTER}({})", string_literal(g.name)),
                }),
                ast::Expr::GetItem(g) if !bracket => {
                    // `.0`: an integer attribute.
                    let sub = g.subscript_expr.span();
                    let Some(index) = self
                        .source
                        .get(sub.start_offset as usize..sub.end_offset as usize)
                    else {
                        self.problem(internal());
                        return;
                    };
                    self.edits.push(Edit {
                        start: at,
                        end: step_end,
                        text: format!("|{CHAIN_FILTER}({index})"),
                    });
                }
                ast::Expr::GetItem(g) => {
                    if step_end <= at || self.source.as_bytes().get(step_end - 1) != Some(&b']') {
                        self.problem(internal());
                        return;
                    }
                    self.edits.push(Edit {
                        start: at,
                        end: at + 1,
                        text: format!("|{CHAIN_FILTER}("),
                    });
                    self.expr(&g.subscript_expr, false);
                    self.edits.push(Edit {
                        start: step_end - 1,
                        end: step_end,
                        text: ")".into(),
                    });
                }
                _ => {}
            }
            previous_end = step_end;
        }
    }

    /// The position of the `.` or `[` that follows an expression ending at `from`, skipping
    /// whitespace and closing parentheses.
    fn postfix_start(&self, from: usize) -> Option<usize> {
        let bytes = self.source.as_bytes();
        let mut at = from;
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b'.' | b'[' => return Some(at),
                b')' | b' ' | b'\t' | b'\r' | b'\n' => at += 1,
                _ => return None,
            }
        }
        None
    }
}

fn internal() -> String {
    "the expression could not be analysed; please report it with the expression text".into()
}

/// `text` as a string literal in rewritten source (JSON string syntax is valid Jinja).
fn string_literal(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> &'static Environment<'static> {
        super::super::environment::environment(Default::default())
    }

    fn typed(text: &str) -> String {
        match analyse_string(text, env()) {
            Ok(Shape::Typed(rewritten)) => rewritten,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn strings_are_classified() {
        let shape = |text: &str| analyse_string(text, env()).unwrap();
        assert_eq!(shape("plain"), Shape::Literal);
        assert_eq!(shape("{# x #}"), Shape::Literal);
        assert_eq!(shape(" {{ x }}\n"), Shape::Typed("x".into()));
        assert_eq!(shape("{{- x -}}"), Shape::Typed("x".into()));
        assert_eq!(shape("a{{ x }}"), Shape::Template("a{{ x }}".into()));
        assert_eq!(
            shape("{{ x }}{{ y }}"),
            Shape::Template("{{ x }}{{ y }}".into())
        );
        assert_eq!(
            shape("{% if x %}1{% endif %}"),
            Shape::Template("{% if x %}1{% endif %}".into())
        );
    }

    #[test]
    fn chains_in_fallback_positions_are_rewritten() {
        assert_eq!(
            typed("{{ a.b.c or d }}"),
            r#"a|__chain("b")|__chain("c") or d"#
        );
        assert_eq!(typed("{{ a.b or d.e }}"), r#"a|__chain("b") or d.e"#);
        assert_eq!(
            typed("{{ (a.b or d.e) or f }}"),
            r#"(a|__chain("b") or d|__chain("e")) or f"#
        );
        assert_eq!(typed("{{ a.b and c.d }}"), r#"a|__chain("b") and c.d"#);
        assert_eq!(typed("{{ not a.b }}"), r#"not a|__chain("b")"#);
        assert_eq!(
            typed("{{ a.b | default(1) }}"),
            r#"a|__chain("b") | default(1)"#
        );
        assert_eq!(
            typed("{{ a.b is defined }}"),
            r#"a|__chain("b") is defined"#
        );
        assert_eq!(
            typed("{{ a.b is not defined }}"),
            r#"a|__chain("b") is not defined"#
        );
        assert_eq!(
            typed("{{ 1 if a.b else c.d }}"),
            r#"1 if a|__chain("b") else c.d"#
        );
        assert_eq!(
            typed(r#"{{ a["k-1"][0].x or 1 }}"#),
            r#"a|__chain("k-1")|__chain(0)|__chain("x") or 1"#
        );
        assert_eq!(typed("{{ a.0 or 1 }}"), r#"a|__chain(0) or 1"#);
        assert_eq!(typed("{{ ( a ).b or 1 }}"), r#"( a )|__chain("b") or 1"#);
        assert_eq!(
            typed("{{ (a.b).c or 1 }}"),
            r#"(a|__chain("b"))|__chain("c") or 1"#
        );
        // Subscripts are used, so their own lookups stay strict.
        assert_eq!(typed("{{ a[k.x] or 1 }}"), r#"a|__chain(k.x) or 1"#);
    }

    #[test]
    fn used_values_are_left_alone() {
        for text in [
            "{{ a.b.c }}",
            "{{ a.b == 1 }}",
            "{{ a.b | lower or 1 }}",
            "{{ a.b.upper() or 1 }}",
            "{{ -a.b or 1 }}",
            "{{ [a.b] or 1 }}",
        ] {
            assert!(
                !typed(text).contains(CHAIN_FILTER),
                "{text}: {}",
                typed(text)
            );
        }
    }

    #[test]
    fn templates_are_rewritten_in_conditions() {
        let Shape::Template(source) = analyse_string(
            "{% if a.b %}{{ c.d }}{% elif e.f %}{% endif %}{% for x in l if x.y %}{% endfor %}",
            env(),
        )
        .unwrap() else {
            panic!("not a template")
        };
        assert_eq!(
            source,
            r#"{% if a|__chain("b") %}{{ c.d }}{% elif e|__chain("f") %}{% endif %}{% for x in l if x|__chain("y") %}{% endfor %}"#
        );
    }

    #[test]
    fn bare_expressions_are_checked_and_rewritten() {
        assert_eq!(
            analyse_expression("a.b.c is defined", env()).unwrap(),
            r#"a|__chain("b")|__chain("c") is defined"#
        );
        assert_eq!(
            analyse_expression("a | nope", env()).unwrap_err(),
            "unknown filter `nope`"
        );
        assert!(
            analyse_expression("a +", env())
                .unwrap_err()
                .starts_with("syntax error")
        );
    }
}
