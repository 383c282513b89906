//! Nothing typed is lost (#10.3): a form posted after its session ended keeps what was typed,
//! asks the person to sign in again, then saves it once.

mod common;

use common::*;
use reqwest::StatusCode;

/// The page's content (after its heading), past the header's sign-out form.
fn content(html: &str) -> &str {
    &html[html.find("<h1>").unwrap_or_else(|| panic!("{html}"))..]
}

/// The hidden inputs of the first form of the page's content, unescaped, in order.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let html = content(html);
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&#60;", "<")
            .replace("&gt;", ">")
            .replace("&#62;", ">")
            .replace("&amp;", "&")
            .replace("&#38;", "&")
    };
    let form = &html[html.find("<form method=\"post\"").unwrap_or_else(|| panic!("{html}"))..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = &rest[..rest.find('"').unwrap()];
            let v = rest.find("value=\"").unwrap() + 7;
            let end = rest[v..].find('"').unwrap();
            (name.to_string(), unescape(&rest[v..v + end]))
        })
        .collect()
}

fn form_action(html: &str) -> String {
    let html = content(html);
    let form = &html[html.find("<form method=\"post\" action=\"").unwrap() + 28..];
    form[..form.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_form_posted_after_sign_out_is_kept_and_saved_once_after_signing_in() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let phone = s.login("anne").await;
        phone.refresh_csrf("/").await;
        // The session ends elsewhere (as after the idle timeout) while the form is open.
        let laptop = s.login("anne").await;
        assert_eq!(location(&laptop.post_form("/sessions/end-all", &[]).await), "/login");

        let note = "stairs, <twice> & \"hard\"\r\nthen rest";
        let r = phone
            .post_form(
                "/episodes",
                &[("kind", "cramp"), ("region", "left-calf"), ("notes", note)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", s.backend);
        let html = r.text().await.unwrap();
        assert!(html.contains("Sign in to save what you typed"), "{html}");
        assert!(html.contains("then rest"), "the typed note is shown");
        let pid = s.patient_id("anne").await;
        let patient = s.store.patient_by_id(pid).await.unwrap().unwrap();
        let stored = || async { s.store.list_episodes(&patient, None, None).await.unwrap().len() };
        assert_eq!(stored().await, 0);

        // Sign in with the carried fields: the answer offers the same form with a new token.
        let mut fields = hidden_fields(&html);
        assert!(
            fields.iter().any(|(k, v)| k == "resume_to" && v == "/episodes"),
            "{fields:?}"
        );
        fields.push(("username".into(), "anne".into()));
        fields.push(("password".into(), PASSWORD.into()));
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = phone.post_form_raw("/login", &pairs).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", s.backend);
        let html = r.text().await.unwrap();
        assert!(html.contains("Save what you typed"), "{html}");
        assert_eq!(form_action(&html), "/episodes");
        assert_eq!(stored().await, 0, "nothing is saved before the tap");

        let fields = hidden_fields(&html);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = phone.post_form_raw("/episodes", &pairs).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", s.backend);
        let list = s.store.list_episodes(&patient, None, None).await.unwrap();
        assert_eq!(list.len(), 1, "{}: saved once", s.backend);
        assert_eq!(list[0].value.notes(), Some("stairs, <twice> & \"hard\"\nthen rest"));
    }
}

#[tokio::test]
async fn a_stale_token_while_signed_in_offers_the_form_again() {
    for s in servers().await {
        let admin = s.setup_admin().await;
        s.add_user(&admin, "anne", "patient").await;
        let anne = s.login("anne").await;
        let r = anne
            .post_form_raw(
                "/episodes",
                &[("kind", "jerk"), ("notes", "kept"), ("csrf", &"0".repeat(64))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let html = r.text().await.unwrap();
        assert!(html.contains("Save what you typed") && html.contains("kept"), "{html}");
        let fields = hidden_fields(&html);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            anne.post_form_raw("/episodes", &pairs).await.status(),
            StatusCode::SEE_OTHER
        );
        let patient = s
            .store
            .patient_by_id(s.patient_id("anne").await)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.store.list_episodes(&patient, None, None).await.unwrap().len(), 1);
        // A form to an account door or the API is never offered again.
        let r = anne.post_form_raw("/logout", &[("csrf", &"0".repeat(64))]).await;
        assert!(!r.text().await.unwrap().contains("Save what you typed"));
    }
}
