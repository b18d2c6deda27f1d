//! The console's HTTP contract without a browser: cookie attributes, the security headers,
//! sign-out and expiry, and the asset cache headers.

use crate::helpers::spawn_app;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use std::time::Duration;

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// `name=value` of the cookie `name` among `set`.
fn pair(set: &[String], name: &str) -> String {
    set.iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {set:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Signs in over HTTP; returns the session cookie as sent back (`name=value`) and every
/// Set-Cookie of the answer.
pub(crate) async fn sign_in(base: &str, key: &str, https: bool) -> (String, Vec<String>) {
    let c = client();
    let form = c
        .get(format!("{base}/console/sign-in"))
        .send()
        .await
        .unwrap();
    let pre = pair(&cookies(&form), "geoffer_console_signin");
    let csrf = pre.split_once('=').unwrap().1.to_string();
    let mut req = c
        .post(format!("{base}/console/sign-in"))
        .header("cookie", &pre)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("key", key), ("csrf", csrf.as_str())]).unwrap());
    if https {
        req = req.header("x-forwarded-proto", "https");
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let set = cookies(&res);
    (pair(&set, "geoffer_console"), set)
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_scoped_to_the_console() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let (_, set) = sign_in(&app.base, &key, false).await;
    let session = set
        .iter()
        .find(|c| c.starts_with("geoffer_console="))
        .unwrap();
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(session.contains(attr), "{attr} missing: {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let (_, set) = sign_in(&app.base, &key, true).await;
    let session = set
        .iter()
        .find(|c| c.starts_with("geoffer_console="))
        .unwrap();
    assert!(session.contains("Secure"), "over TLS: {session}");
}

#[tokio::test]
async fn pages_send_a_policy_that_allows_scripts_only_from_the_console_itself() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let (session, _) = sign_in(&app.base, &key, false).await;
    let res = client()
        .get(format!("{}/console/brands/chillco/fences", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn signing_out_or_expiry_ends_the_session() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let page = format!("{}/console/brands/chillco/fences", app.base);
    let get = |cookie: String| {
        let page = page.clone();
        async move {
            client()
                .get(page)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    // Sign-out (with the page's CSRF token) ends it.
    let (session, _) = sign_in(&app.base, &key, false).await;
    let again = client()
        .get(format!("{}/console/sign-in", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303, "signed in: no second sign-in form");
    assert_eq!(again.headers()[LOCATION], "/console");
    let html = get(session.clone()).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let out = client()
        .post(format!("{}/console/sign-out", app.base))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("csrf", csrf.as_str())]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = get(session).await;
    assert_eq!(after.status(), 303);
    assert_eq!(after.headers()[LOCATION], "/console/sign-in");
    // Twelve hours (the default) end it too.
    let (session, _) = sign_in(&app.base, &key, false).await;
    assert_eq!(get(session.clone()).await.status(), 200);
    app.clock.advance(Duration::from_secs(12 * 3600 + 1));
    let late = get(session).await;
    assert_eq!(late.status(), 303);
    assert_eq!(late.headers()[LOCATION], "/console/sign-in");
}

#[tokio::test]
async fn app_keys_and_unknown_keys_cannot_sign_in() {
    let app = spawn_app().await;
    let app_key = app.key("app", None).await;
    let c = client();
    for (key, status, says) in [
        (app_key.as_str(), 403, "app keys cannot sign in"),
        ("gk_0123456789abcdef_nope", 401, "not recognised"),
    ] {
        let form = c
            .get(format!("{}/console/sign-in", app.base))
            .send()
            .await
            .unwrap();
        let pre = pair(&cookies(&form), "geoffer_console_signin");
        let csrf = pre.split_once('=').unwrap().1.to_string();
        let res = c
            .post(format!("{}/console/sign-in", app.base))
            .header("cookie", &pre)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string([("key", key), ("csrf", csrf.as_str())]).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
        assert!(
            !cookies(&res)
                .iter()
                .any(|c| c.starts_with("geoffer_console="))
        );
        assert!(res.text().await.unwrap().contains(says));
    }
}

#[tokio::test]
async fn assets_are_embedded_and_cached_for_a_year() {
    let app = spawn_app().await;
    let res = client()
        .get(format!("{}/console/assets/leaflet.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let body = res.bytes().await.unwrap();
    let vendored = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/console/vendor/dist/leaflet.js"
    ))
    .unwrap();
    assert_eq!(body.as_ref(), vendored.as_slice());
    let missing = client()
        .get(format!("{}/console/assets/nope.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The CSRF token rendered into a page.
pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_string()
}

#[tokio::test]
async fn support_reads_every_brands_fences_but_cannot_delete_one() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    let support = app.key("support", None).await;
    let (session, _) = sign_in(&app.base, &support, false).await;
    let get = |path: &str| {
        client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &session)
            .send()
    };
    // The brand list, then the brand's page, without drawing tools or delete buttons.
    let list = get("/console/brands").await.unwrap().text().await.unwrap();
    assert!(list.contains("/console/brands/chillco/fences"), "{list}");
    let page = get("/console/brands/chillco/fences")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Corner Store 5th Ave"));
    assert!(!page.contains("form.delete") && !page.contains("class=\"delete\""));
    assert!(!page.contains("leaflet-geoman"), "no drawing tools");
    // A delete posted anyway is refused by the service, with the session's own token.
    let (_, fences) = app.get("/v1/brands/chillco/geofences", &key).await;
    let id = fences["features"][0]["id"].as_str().unwrap().to_string();
    let csrf = csrf_of(&page);
    let res = client()
        .post(format!(
            "{}/console/brands/chillco/fences/{id}/delete",
            app.base
        ))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("csrf", csrf.as_str())]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("read-only"));
    let (_, fences) = app.get("/v1/brands/chillco/geofences", &key).await;
    assert_eq!(fences["features"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_crossing_reshape_is_refused_in_words_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    let (_, before) = app.get("/v1/brands/chillco/geofences", &key).await;
    let plaza = before["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["external_id"] == "plaza-1")
        .unwrap()
        .clone();
    let (session, _) = sign_in(&app.base, &key, false).await;
    let page = client()
        .get(format!("{}/console/brands/chillco/fences", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A bow tie: its edges cross.
    let bow_tie = serde_json::json!({"type": "Polygon", "coordinates": [[
        [-73.99, 40.75], [-73.98, 40.756], [-73.98, 40.75], [-73.99, 40.756], [-73.99, 40.75]]]});
    let res = client()
        .post(format!(
            "{}/console/brands/chillco/fences/{}/shape",
            app.base,
            plaza["id"].as_str().unwrap()
        ))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("csrf", csrf_of(&page).as_str()),
                ("geometry", bow_tie.to_string().as_str()),
                ("radius_m", ""),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    let error = html
        .split("id=\"error-shape\"")
        .nth(1)
        .expect("the reason is shown under the map");
    assert!(
        error.contains("The new shape of “Plaza with a courtyard” was not saved"),
        "{error}"
    );
    let (_, after) = app.get("/v1/brands/chillco/geofences", &key).await;
    assert_eq!(before, after, "nothing changed");
}
