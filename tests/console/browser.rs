//! Headless Chromium over WebDriver: one chromedriver per test on a free port, killed when
//! the test ends; helpers to resize, check for sideways scrolling and save screenshots.

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The widths every test runs at: a laptop and a phone.
pub const WIDTHS: [u32; 2] = [1280, 390];

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    _driver: tokio::process::Child,
}

/// A fresh browser, or `None` (with a message) when chromedriver is not installed.
pub async fn browser() -> Option<Browser> {
    if !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED: {CHROMEDRIVER} is missing; install chromium and chromium-driver \
             (bash .ci/test does) to run the console's browser tests"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--window-size=1280,900",
    ];
    args.push("--lang=en-US");
    let mut chrome = json!({ "args": args });
    if Path::new("/usr/bin/chromium").exists() {
        chrome["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), chrome);
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    _driver: driver,
                });
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no WebDriver session: {last:?}");
}

impl Browser {
    /// Makes the page `width` CSS pixels wide (and a phone's or laptop's height).
    pub async fn resize(&self, width: u32) {
        let height = if width < 600 { 844 } else { 900 };
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self.inner_width().await;
        assert!(
            inner.abs_diff(u64::from(width)) <= 20,
            "asked for a {width} px wide window, the page is {inner} px wide"
        );
    }

    async fn inner_width(&self) -> u64 {
        self.client
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap()
    }

    /// The page must not scroll sideways.
    pub async fn assert_no_sideways_scroll(&self, what: &str) {
        let v = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
        assert!(
            scroll <= inner,
            "{what}: the page scrolls sideways (scrollWidth {scroll} > innerWidth {inner})"
        );
    }

    /// Saves a screenshot to `target/console-screenshots/NAME-WIDTH.png`.
    pub async fn screenshot(&self, name: &str, width: u32) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{width}.png"));
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn goto(&self, base: &str, path: &str) {
        self.client.goto(&format!("{base}{path}")).await.unwrap();
    }

    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let source = self.client.source().await.unwrap_or_default();
                let shown: String = source.chars().take(2000).collect();
                panic!("no `{css}` on {url:?} ({e}); the page:\n{shown}");
            }
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Waits (up to 10 s) until the element's visible text is `expected`; what it was last
    /// in the panic otherwise. For text a page's script changes without a page load.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        self.wait_for_text_that(css, expected, |t| t == expected)
            .await
    }

    /// Waits (up to 10 s) until the element's visible text contains `part`.
    pub async fn wait_for_text_containing(&self, css: &str, part: &str) {
        self.wait_for_text_that(css, part, |t| t.contains(part))
            .await
    }

    async fn wait_for_text_that(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.text(css).await;
            if ok(&last) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` says {last:?}, not {what:?}");
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Types into a field, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Signs in through the form with `key`, and waits for the page it leads to.
    pub async fn sign_in(&self, base: &str, key: &str) {
        self.client.delete_all_cookies().await.ok();
        self.goto(base, "/console/sign-in").await;
        self.fill("#key", key).await;
        self.find("#sign-in button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        self.find("main").await;
    }

    /// Clicks at (x, y) pixels from the centre of `element`.
    pub async fn click_at(&self, element: &Element, x: f64, y: f64) {
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: element.clone(),
                duration: Some(Duration::from_millis(50)),
                x,
                y,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .pause(Duration::from_millis(150));
        self.client.perform_actions(mouse).await.unwrap();
    }

    /// Drags `element` by (dx, dy) pixels in small steps, as a hand would.
    pub async fn drag(&self, element: &Element, dx: f64, dy: f64) {
        let mut mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: element.clone(),
                duration: Some(Duration::from_millis(50)),
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
        for _ in 0..5 {
            mouse = mouse.then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(40)),
                x: dx / 5.0,
                y: dy / 5.0,
            });
        }
        let mouse = mouse
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .pause(Duration::from_millis(150));
        self.client.perform_actions(mouse).await.unwrap();
    }

    /// Scrolls the page so that `css` is in the middle of the screen (for a screenshot).
    pub async fn scroll_to(&self, css: &str) {
        let el = self.find(css).await;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(el).unwrap()],
            )
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn close(self) {
        self.client.close().await.ok();
    }
}
