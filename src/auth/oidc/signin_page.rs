//! The HTML the built-in provider shows: the sign-in form, error pages, "signed out". One small
//! self-contained page (inline CSS, no scripts, no external assets). The form's element ids
//! (`username`, `password`, `submit`, `error`) are what the browser suite drives.

use quick_xml::escape::escape;

/// What the sign-in form carries besides the user's input: the authorization request, and the
/// CSRF form token.
pub struct FormFields<'a> {
    /// Hidden `(name, value)` pairs, posted back unchanged.
    pub hidden: Vec<(&'a str, String)>,
    /// A user name to pre-fill (`login_hint`, or what was typed before a wrong password).
    pub username: &'a str,
    /// An error to show above the form.
    pub error: Option<&'a str>,
}

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;\
align-items:center;justify-content:center;background:#f3f4f6;font:16px/1.5 system-ui,-apple-system,\
'Segoe UI',Roboto,sans-serif;color:#1f2937}main{width:100%;max-width:22rem;background:#fff;\
padding:2rem;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.375rem;\
margin:0 0 1.25rem}label{display:block;font-size:.875rem;font-weight:600;margin:.75rem 0 .25rem}\
input{width:100%;padding:.6rem .7rem;border:1px solid #d1d5db;border-radius:.4rem;font:inherit}\
input:focus{outline:2px solid #2563eb;border-color:#2563eb}button{width:100%;margin-top:1.25rem;\
padding:.65rem;border:0;border-radius:.4rem;background:#2563eb;color:#fff;font:inherit;\
font-weight:600;cursor:pointer}button:hover{background:#1d4ed8}#error{background:#fef2f2;\
color:#b91c1c;border:1px solid #fecaca;padding:.6rem .75rem;border-radius:.4rem;margin:0 0 1rem}\
p.note{color:#4b5563}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · spacedav</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        title = escape(title)
    )
}

/// The sign-in form, posting to `action`.
pub fn signin(action: &str, fields: &FormFields<'_>) -> String {
    let mut body = String::from("<h1>Sign in to spacedav</h1>");
    if let Some(error) = fields.error {
        body.push_str(&format!(
            "<p id=\"error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\" autocomplete=\"on\">",
        escape(action)
    ));
    for (name, value) in &fields.hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(*name),
            escape(value.as_str())
        ));
    }
    body.push_str(&format!(
        "<label for=\"username\">User name</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" \
         required autofocus value=\"{}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required>\
         <button id=\"submit\" type=\"submit\">Sign in</button></form>",
        escape(fields.username)
    ));
    page("Sign in", &body)
}

/// A page that explains why sign-in cannot go on (bad client, bad redirect URI, expired form).
pub fn error(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"note\">{}</p>",
            escape(title),
            escape(message)
        ),
    )
}

/// Shown after sign-out when there is nowhere registered to return to.
pub fn signed_out() -> String {
    page(
        "Signed out",
        "<h1>Signed out</h1><p class=\"note\">You have been signed out. You can close this window.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_ids_are_present() {
        let html = signin(
            "/oidc/authorize",
            &FormFields {
                hidden: vec![("state", "\"><script>".into())],
                username: "a<b",
                error: Some("Wrong username or password."),
            },
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("value=\"a&lt;b\""));
        for needle in [
            "<input id=\"username\" name=\"username\"",
            "<input id=\"password\" name=\"password\" type=\"password\"",
            "<button id=\"submit\" type=\"submit\">Sign in</button>",
            "<p id=\"error\" role=\"alert\">Wrong username or password.</p>",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
    }
}
