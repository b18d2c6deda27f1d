//! Offer copy: minijinja templates filled from the moment.
//!
//! Copy is pushed to phones, so its size is bounded twice:
//! - **When a brand writes it** ([`check`]): the template may use only what copy needs —
//!   text, `{{ … }}` with the [`VARIABLES`], a few formatting [`FILTERS`], tests, comparisons,
//!   `and`/`or`/`not`, `~`, `+ - / // %` and `{% if %}` — and must render within its bound
//!   ([`Part::max_bytes`]) with the longest values any moment can supply. No loops, `set`,
//!   macros, calls or `*`/`**`: those are what turn 2,000 characters of template into
//!   hundreds of megabytes (repetition, doubling through variables, nested loops), and
//!   without them a template's output grows at most linearly with its source.
//! - **At decision time** ([`render`]), before the claim: the same rules, a fuel bound on the
//!   template's work, and an output bound. An offer whose copy cannot be rendered is
//!   skipped with the reason in the trace and uses up no cap or budget.
//!
//! The syntax check walks minijinja's parsed template (its `unstable_machinery` API, pinned
//! by `Cargo.lock`): a whitelist over the syntax tree, so a construct added by a later
//! minijinja is refused until it is judged safe here.
//!
//! About 360 lines, 80 of them tests.

use minijinja::machinery::ast::{BinOpKind, CallArg, Expr, Stmt};
use minijinja::{Environment, UndefinedBehavior, context};
use std::sync::LazyLock;

/// The variables a template may use.
pub const VARIABLES: &[&str] = &[
    "fence.name",
    "brand.name",
    "weather.temp_c",
    "weather.feels_like_c",
    "weather.condition",
    "habit.usual_item",
    "habit.visits_per_week",
    "distance_m",
    "local_time",
];

/// The filters a template may use: formatting only, none that repeats or joins.
pub const FILTERS: &[&str] = &[
    "round",
    "int",
    "float",
    "abs",
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "d",
    "string",
    "length",
];

/// Longest template source accepted, in characters.
pub const MAX_LEN: usize = 2_000;

/// Template instructions one rendering may run (minijinja fuel). Copy that uses every
/// allowed construct in a 2,000-character template stays far below it.
const FUEL: u64 = 20_000;

/// Which part of the copy a template is: each has its own rendered-size bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The notification's title.
    Title,
    /// The notification's body.
    Body,
}

impl Part {
    /// Largest rendered size, in UTF-8 bytes. Push notifications carry about 4 KB in all
    /// (APNs and FCM); title and body together (2.5 KiB) stay inside that with room for the
    /// rest of the payload. A title may name the brand and the store in full.
    pub const fn max_bytes(self) -> usize {
        match self {
            Self::Title => 512,
            Self::Body => 2_048,
        }
    }
}

fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(FUEL));
    env
}

/// Strict when a brand writes copy: a misspelt attribute is an error to show them.
static STRICT: LazyLock<Environment<'static>> =
    LazyLock::new(|| environment(UndefinedBehavior::Strict));

/// Lenient at decision time: a value the moment lacks renders empty.
static LENIENT: LazyLock<Environment<'static>> =
    LazyLock::new(|| environment(UndefinedBehavior::Chainable));

/// Checks a template: it parses, uses only the allowed syntax, [`VARIABLES`] and
/// [`FILTERS`], and renders within `part`'s bound with sample values and with the longest
/// values a moment can have.
pub fn check(source: &str, part: Part) -> Result<(), String> {
    if source.trim().is_empty() || source.chars().count() > MAX_LEN {
        return Err(format!("must be 1-{MAX_LEN} characters"));
    }
    allowed(source)?;
    let tmpl = STRICT
        .template_from_str(source)
        .map_err(|e| format!("template does not parse: {e}"))?;
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter(|v| !VARIABLES.contains(&v.as_str()))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        return Err(format!(
            "unknown template variable(s) {}; available: {}",
            unknown.join(", "),
            VARIABLES.join(", ")
        ));
    }
    for ctx in [sample_context(), longest_context()] {
        bounded(&tmpl, ctx, part).map_err(|e| format!("template cannot render: {e}"))?;
    }
    Ok(())
}

/// Renders a template with the moment's values, within `part`'s bound. Missing values
/// render empty; a template that breaks the rules (stored before they existed), runs out
/// of fuel or renders too much is an error, and the offer is not sent.
pub fn render(source: &str, ctx: &minijinja::Value, part: Part) -> Result<String, String> {
    allowed_cached(source)?;
    let tmpl = LENIENT
        .template_from_str(source)
        .map_err(|e| format!("template does not parse: {e}"))?;
    bounded(&tmpl, ctx.clone(), part)
}

fn bounded(
    tmpl: &minijinja::Template<'_, '_>,
    ctx: minijinja::Value,
    part: Part,
) -> Result<String, String> {
    let max = part.max_bytes();
    let mut out = Capped {
        buf: Vec::with_capacity(256),
        max,
    };
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8(out.buf).map_err(|e| e.to_string()),
        Err(_) if out.buf.len() > max => Err(format!(
            "the rendered copy would be longer than {max} bytes"
        )),
        Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(format!(
            "the template does more work than copy may ({FUEL} steps)"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// A writer that refuses to grow past `max` bytes (it keeps one byte more, to tell why).
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            self.buf
                .extend_from_slice(&data[..(self.max + 1 - self.buf.len()).min(data.len())]);
            return Err(std::io::Error::other("copy too long"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Templates whose whitelist verdict this thread knows; emptied when it holds more than
/// [`ALLOWED_CACHE`] (offers change seldom, so it rarely is).
const ALLOWED_CACHE: usize = 512;

thread_local! {
    static ALLOWED: std::cell::RefCell<std::collections::HashMap<String, Result<(), String>>> =
        std::cell::RefCell::default();
}

/// [`allowed`], remembered per template text: copy is rendered for every offer a decision
/// claims, and parsing its template again each time to check the whitelist was a third of
/// the rendering (issue 18).
fn allowed_cached(source: &str) -> Result<(), String> {
    if let Some(known) = ALLOWED.with(|c| c.borrow().get(source).cloned()) {
        return known;
    }
    let verdict = allowed(source);
    ALLOWED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= ALLOWED_CACHE {
            c.clear();
        }
        c.insert(source.to_string(), verdict.clone());
    });
    verdict
}

/// Refuses every construct outside the copy whitelist, naming the first one found.
fn allowed(source: &str) -> Result<(), String> {
    let ast = minijinja::machinery::parse(source, "copy", Default::default())
        .map_err(|e| format!("template does not parse: {e}"))?;
    stmt(&ast)
}

fn stmt(s: &Stmt<'_>) -> Result<(), String> {
    match s {
        Stmt::Template(t) => t.children.iter().try_for_each(stmt),
        Stmt::EmitRaw(_) => Ok(()),
        Stmt::EmitExpr(e) => expr(&e.expr),
        Stmt::IfCond(c) => {
            expr(&c.expr)?;
            c.true_body.iter().chain(&c.false_body).try_for_each(stmt)
        }
        Stmt::ForLoop(_) => Err(refused("`{% for %}` loops")),
        Stmt::Set(_) | Stmt::SetBlock(_) => Err(refused("`{% set %}`")),
        _ => Err(refused(
            "block tags other than `{% if %}`/`{% elif %}`/`{% else %}`",
        )),
    }
}

fn expr(e: &Expr<'_>) -> Result<(), String> {
    match e {
        Expr::Var(_) | Expr::Const(_) => Ok(()),
        Expr::GetAttr(a) => expr(&a.expr),
        Expr::GetItem(g) => expr(&g.expr).and_then(|()| expr(&g.subscript_expr)),
        Expr::UnaryOp(u) => expr(&u.expr),
        Expr::BinOp(b) => match b.op {
            BinOpKind::Mul => Err(refused("`*` (it repeats text)")),
            BinOpKind::Pow => Err(refused("`**`")),
            _ => expr(&b.left).and_then(|()| expr(&b.right)),
        },
        Expr::Compare(c) => {
            expr(&c.expr)?;
            c.ops.iter().try_for_each(|op| expr(&op.expr))
        }
        Expr::IfExpr(i) => {
            expr(&i.test_expr)?;
            expr(&i.true_expr)?;
            i.false_expr.as_ref().map_or(Ok(()), expr)
        }
        Expr::Filter(f) => {
            if !FILTERS.contains(&f.name) {
                return Err(format!(
                    "filter `{}` is not available in offer copy; available: {}",
                    f.name,
                    FILTERS.join(", ")
                ));
            }
            f.expr.as_ref().map_or(Ok(()), expr)?;
            args(&f.args)
        }
        Expr::Test(t) => expr(&t.expr).and_then(|()| args(&t.args)),
        Expr::List(l) => l.items.iter().try_for_each(expr),
        Expr::Tuple(t) => t.items.iter().try_for_each(expr),
        Expr::Slice(_) => Err(refused("slices")),
        Expr::Call(_) => Err(refused("function calls")),
        Expr::Map(_) => Err(refused("map literals")),
    }
}

fn args(list: &[CallArg<'_>]) -> Result<(), String> {
    list.iter().try_for_each(|a| match a {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) => expr(e),
        CallArg::PosSplat(_) | CallArg::KwargSplat(_) => Err(refused("`*args` splats")),
    })
}

fn refused(what: &str) -> String {
    format!("{what} cannot be used in offer copy (docs/errors.md, \"Offer copy\")")
}

/// Values used to trial-render templates when they are written.
fn sample_context() -> minijinja::Value {
    context! {
        fence => context! { name => "Corner Store 5th Ave" },
        brand => context! { name => "ChillCo" },
        weather => context! { temp_c => 30.6, feels_like_c => 33.0, condition => "clear" },
        habit => context! { usual_item => "cola-330", visits_per_week => 3.0 },
        distance_m => 80,
        local_time => "15:02",
    }
}

/// The longest values a moment can supply, in characters: names of 200 characters (fence
/// and brand names are at most 200), a 128-character SKU, the wordiest condition and
/// numbers with the most digits. (Names of multi-byte characters can be longer in bytes;
/// the bound at decision time catches that rare case: the offer is skipped, not sent.)
fn longest_context() -> minijinja::Value {
    let name: String = "W".repeat(200);
    context! {
        fence => context! { name => name.clone() },
        brand => context! { name => name },
        weather => context! { temp_c => -88.88, feels_like_c => -99.99, condition => "thunderstorm" },
        habit => context! { usual_item => "W".repeat(128), visits_per_week => 100.125 },
        distance_m => 100_000.5,
        local_time => "23:59",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_example_body_is_accepted() {
        let body = "It's {{ weather.temp_c | round }}°C. Your usual {{ habit.usual_item }} is \
                    {{ distance_m }} m away at {{ fence.name }}.";
        assert_eq!(check(body, Part::Body), Ok(()));
    }

    #[test]
    fn an_unknown_variable_is_named() {
        let err = check("Hi {{ user.first_name }}", Part::Body).unwrap_err();
        assert!(err.contains("user.first_name"), "{err}");
    }

    #[test]
    fn a_syntax_error_and_an_unknown_filter_are_refused() {
        assert!(check("{{ fence.name ", Part::Body).is_err());
        assert!(check("{{ fence.name | shout }}", Part::Body).is_err());
    }

    #[test]
    fn conditions_and_formatting_are_allowed() {
        let t = "{% if weather.temp_c > 25 and weather.condition in ['clear', 'cloudy'] %}Hot: \
                 {{ weather.temp_c | round | int }}°C{% elif habit.usual_item is defined %}\
                 {{ habit.usual_item | upper ~ '!' }}{% else %}{{ fence.name | default('us') }}{% endif %}";
        assert_eq!(check(t, Part::Body), Ok(()));
    }

    #[test]
    fn constructs_that_repeat_or_double_text_are_refused_when_written() {
        for t in [
            "{{ 'x' * 100000000 }}",
            "{% for i in range(100000) %}{{ fence.name }}{% endfor %}",
            "{% set a = 'xxxxxxxx' %}{% set a = a ~ a %}{{ a }}",
            "{{ range(100000) | join(',') }}",
            "{{ fence.name | replace('', 'xxxxxxxxxx') }}",
            "{% macro m() %}x{% endmacro %}{{ m() }}",
            "{{ lipsum(1000) }}",
        ] {
            assert!(check(t, Part::Body).is_err(), "{t}");
        }
    }

    #[test]
    fn copy_longer_than_its_bound_with_the_longest_values_is_refused_when_written() {
        // A title may name the brand and the store in full...
        assert_eq!(
            check("{{ brand.name }} at {{ fence.name }}", Part::Title),
            Ok(())
        );
        // ... but short with the sample values is not enough: too long with 200-character names.
        let t = "{{ fence.name }}, {{ brand.name }}: {{ fence.name }}";
        assert_eq!(check(t, Part::Body), Ok(()));
        let err = check(t, Part::Title).unwrap_err();
        assert!(err.contains("512 bytes"), "{err}");
        assert!(check(&"Hello! ".repeat(80), Part::Title).is_err());
    }

    #[test]
    fn rendering_fills_the_moment() {
        let out = render(
            "{{ fence.name }} at {{ weather.temp_c | round }}°C",
            &sample_context(),
            Part::Title,
        )
        .unwrap();
        assert_eq!(out, "Corner Store 5th Ave at 31.0°C");
    }

    #[test]
    fn rendering_a_template_stored_before_the_rules_fails_instead_of_growing() {
        let doubling = "{% set a = 'xxxxxxxx' %}{% for i in range(60) %}{% set a = a ~ a %}{% endfor %}{{ a }}";
        let first = render(doubling, &sample_context(), Part::Body).unwrap_err();
        // The second time the verdict comes from the thread's cache, and is the same.
        assert_eq!(
            render(doubling, &sample_context(), Part::Body).unwrap_err(),
            first
        );
        // A name of 200 four-byte characters is 800 bytes: over the title's bound.
        let ctx = context! { fence => context! { name => "\u{1F9CA}".repeat(200) } };
        let err = render("{{ fence.name }}", &ctx, Part::Title).unwrap_err();
        assert!(err.contains("longer than 512 bytes"), "{err}");
    }
}
