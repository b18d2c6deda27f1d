//! Offer copy: minijinja templates filled from the moment. Checked when a brand writes them, so
//! rendering at check-in time has nothing left to fail on but data.

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

/// Longest template accepted.
pub const MAX_LEN: usize = 2_000;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Strict at write time catches misspelt attributes that `undeclared_variables` cannot see.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
});

/// Checks a template: it parses, uses only [`VARIABLES`], and renders with sample values.
pub fn check(source: &str) -> Result<(), String> {
    if source.trim().is_empty() || source.chars().count() > MAX_LEN {
        return Err(format!("must be 1-{MAX_LEN} characters"));
    }
    let tmpl = ENV
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
    tmpl.render(sample_context())
        .map(|_| ())
        .map_err(|e| format!("template cannot render: {e}"))
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

/// Renders a checked template with the moment's values. Missing values render empty rather
/// than failing: a check-in must never fail because of copy.
pub fn render(source: &str, ctx: &minijinja::Value) -> Result<String, minijinja::Error> {
    static LENIENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env
    });
    LENIENT.render_str(source, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_example_body_is_accepted() {
        let body = "It's {{ weather.temp_c | round }}°C. Your usual {{ habit.usual_item }} is \
                    {{ distance_m }} m away at {{ fence.name }}.";
        assert_eq!(check(body), Ok(()));
    }

    #[test]
    fn an_unknown_variable_is_named() {
        let err = check("Hi {{ user.first_name }}").unwrap_err();
        assert!(err.contains("user.first_name"), "{err}");
    }

    #[test]
    fn a_syntax_error_and_an_unknown_filter_are_refused() {
        assert!(check("{{ fence.name ").is_err());
        assert!(check("{{ fence.name | shout }}").is_err());
    }

    #[test]
    fn rendering_fills_the_moment() {
        let out = render(
            "{{ fence.name }} at {{ weather.temp_c | round }}°C",
            &sample_context(),
        )
        .unwrap();
        assert_eq!(out, "Corner Store 5th Ave at 31.0°C");
    }
}
