//! The pages `serve` answers with: small, self-contained HTML (no script,
//! no outside file), readable on a phone. Every value put in is escaped.
//! A page never says whether an address is on the list.

use axum::http::StatusCode;
use axum::response::Html;

use crate::config::{Cadence, Config};

/// A page and its status.
pub(super) type Page = (StatusCode, Html<String>);

const STYLE: &str = "body{margin:0;background:#f4f4f5;color:#18181b;\
font:17px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK KR',sans-serif}\
main{max-width:28rem;margin:12vh auto;padding:2rem 1.5rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem}\
p{margin:0 0 1rem}.site{color:#52525b;font-size:.9rem;margin-bottom:1.5rem}\
.site a{color:inherit}label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input{box-sizing:border-box;width:100%;font:inherit;padding:.6rem .75rem;border:1px solid #a1a1aa;border-radius:8px}\
button{margin-top:1.25rem;width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;\
border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer}button:focus,input:focus{outline:3px solid #93c5fd}\
button.other{background:#fff;color:#1d4ed8;border:2px solid #1d4ed8;padding:calc(.75rem - 2px)}\
.or{margin:1.75rem 0 0;padding-top:1.25rem;border-top:1px solid #e4e4e7}.or+form button{margin-top:.75rem}\
fieldset{border:0;margin:1rem 0 0;padding:0}legend{font-weight:600;padding:0;margin-bottom:.25rem}\
label.choice{display:flex;gap:.6rem;align-items:baseline;font-weight:400;margin:.4rem 0}\
label.choice input{width:auto;margin:0;flex:none}\
@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}";

fn page(config: &Config, status: StatusCode, title: &str, body: &str) -> Page {
    let escape = |text: &str| html_escape::encode_text(text).into_owned();
    let site = escape(&config.site.title);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} · {site}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <p class=\"site\"><a href=\"{url}\">{site}</a></p>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        lang = html_escape::encode_double_quoted_attribute(&config.site.language),
        url = html_escape::encode_double_quoted_attribute(&config.site.url),
        title = escape(title),
    );
    (status, Html(html))
}

fn button(label: &str) -> String {
    format!(
        "<form method=\"post\">\n<button type=\"submit\">{}</button>\n</form>",
        html_escape::encode_text(label)
    )
}

fn site(config: &Config) -> String {
    html_escape::encode_text(&config.site.title).into_owned()
}

/// A `GET` of an unsubscribe link: a button that `POST`s, and beside it
/// the other cadence, a second button that `POST`s the switch to `switch`
/// (the link's own `/cadence/` URL). A reader who wants less mail need not
/// leave.
pub(super) fn unsubscribe_confirm(config: &Config, now: Cadence, switch: &str) -> Page {
    let (offer, to, label) = match now {
        Cadence::Daily => (
            "Or get less mail: the week's posts together, in one email a week.",
            Cadence::Weekly,
            "Switch to weekly",
        ),
        Cadence::Weekly => (
            "Or get each post by email as it comes out, instead of once a week.",
            Cadence::Daily,
            "Switch to daily",
        ),
    };
    let body = format!(
        "<p>Stop receiving {} by email? One press and no more posts are sent to you.</p>\n{}\n\
         <p class=\"or\">{offer}</p>\n\
         <form method=\"post\" action=\"{}\">\n\
         <input type=\"hidden\" name=\"cadence\" value=\"{}\">\n\
         <button type=\"submit\" class=\"other\">{label}</button>\n</form>",
        site(config),
        button("Unsubscribe"),
        html_escape::encode_double_quoted_attribute(switch),
        to.as_str(),
    );
    page(config, StatusCode::OK, "Unsubscribe?", &body)
}

/// Done: the cadence is now `cadence`.
pub(super) fn cadence_switched(config: &Config, cadence: Cadence) -> Page {
    let (title, how) = match cadence {
        Cadence::Weekly => (
            "You will get one email a week",
            "comes to you once a week: one email with the week's posts",
        ),
        Cadence::Daily => (
            "You will get every post",
            "comes to you by email as each post is published",
        ),
    };
    let body = format!(
        "<p>From now on {} {how}. Every email has a link to change this, or to leave.</p>",
        site(config)
    );
    page(config, StatusCode::OK, title, &body)
}

/// A choice of cadence that is neither daily nor weekly.
pub(super) fn not_a_cadence(config: &Config) -> Page {
    page(
        config,
        StatusCode::BAD_REQUEST,
        "That is not a choice we offer",
        "<p>Go back and choose each post as it comes out, or one email a week.</p>",
    )
}

/// Done: unsubscribed.
pub(super) fn unsubscribed(config: &Config) -> Page {
    let body = format!(
        "<p>You will get no more emails from {}. Changed your mind? You can sign up again on the blog.</p>",
        site(config)
    );
    page(config, StatusCode::OK, "You are unsubscribed", &body)
}

/// A token that names no one: forged, altered, or from another list.
pub(super) fn bad_link(config: &Config) -> Page {
    page(
        config,
        StatusCode::NOT_FOUND,
        "This link does not work",
        "<p>The link is not complete or was changed. Use the link at the bottom of a recent email, \
         or reply to it and ask to be removed.</p>",
    )
}

/// The sign-up form.
pub(super) fn signup_form(config: &Config) -> Html<String> {
    let body = format!(
        "<p>Get the new posts of {} by email, each as it comes out or once a week. We send a confirmation \
         first; nothing else until you press its button.</p>\n\
         <form method=\"post\">\n<label for=\"email\">Email address</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" required maxlength=\"254\" autocomplete=\"email\">\n\
         <label for=\"name\">Name (optional)</label>\n\
         <input id=\"name\" name=\"name\" type=\"text\" maxlength=\"100\" autocomplete=\"name\">\n\
         <fieldset>\n<legend>How often</legend>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"cadence\" value=\"daily\" checked> Each post as it comes out</label>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"cadence\" value=\"weekly\"> One email a week, with the week's posts</label>\n\
         </fieldset>\n\
         <button type=\"submit\">Subscribe</button>\n</form>",
        site(config)
    );
    page(config, StatusCode::OK, "Subscribe", &body).1
}

/// After a sign-up, whatever the address was.
pub(super) fn check_inbox(config: &Config) -> Page {
    page(
        config,
        StatusCode::OK,
        "Check your inbox",
        "<p>If that address can join the list, a message with a confirmation link is on its way. \
         Open it and press the button to start receiving posts.</p>",
    )
}

/// A sign-up posted from a page on another site.
pub(super) fn cross_site(config: &Config) -> Page {
    let body = format!(
        "<p>This form was sent from another site, so it was not taken. To receive {} by email, \
         use the sign-up form on its own pages.</p>",
        site(config)
    );
    page(
        config,
        StatusCode::FORBIDDEN,
        "Sign up on our own page",
        &body,
    )
}

/// A switch of cadence posted from a page on another site.
pub(super) fn cross_site_switch(config: &Config) -> Page {
    page(
        config,
        StatusCode::FORBIDDEN,
        "Nothing was changed",
        "<p>This form was sent from another site, so it was not taken. To change how often you \
         get our emails, open the link at the bottom of one of them.</p>",
    )
}

/// A sign-up with no address in it.
pub(super) fn not_an_address(config: &Config) -> Page {
    page(
        config,
        StatusCode::BAD_REQUEST,
        "That is not an email address",
        "<p>Go back and check the address: it should look like name@example.org.</p>",
    )
}

/// A `GET` of a confirmation link: a button that `POST`s.
pub(super) fn signup_confirm(config: &Config) -> Page {
    let body = format!(
        "<p>Press the button to receive {} by email.</p>\n{}",
        site(config),
        button("Confirm my subscription")
    );
    page(config, StatusCode::OK, "Confirm your subscription", &body)
}

/// Done: subscribed.
pub(super) fn subscribed(config: &Config, cadence: Cadence) -> Page {
    let body = match cadence {
        Cadence::Daily => format!(
            "<p>Welcome to {}. The newest post comes with the next mailing; every email has a link to leave.</p>",
            site(config)
        ),
        Cadence::Weekly => format!(
            "<p>Welcome to {}. Its posts come to you once a week, in one email with the week's posts; \
             every email has a link to change this, or to leave.</p>",
            site(config)
        ),
    };
    page(config, StatusCode::OK, "You are subscribed", &body)
}

/// Too many requests from one client.
pub(super) fn too_many(config: &Config) -> Page {
    page(
        config,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        "<p>Wait a few seconds, then try again.</p>",
    )
}

/// A client over its sign-ups for the hour.
pub(super) fn too_many_signups(config: &Config) -> Page {
    page(
        config,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many sign-ups",
        "<p>Too many sign-ups came from here this hour. Try again in an hour.</p>",
    )
}

/// Our side failed (the state could not be written): nothing was changed.
pub(super) fn trouble(config: &Config) -> Page {
    page(
        config,
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "<p>Nothing was changed. Please try again in a minute.</p>",
    )
}

/// No such page.
pub(super) fn not_found(config: &Config) -> Page {
    page(
        config,
        StatusCode::NOT_FOUND,
        "Page not found",
        "<p>There is nothing here.</p>",
    )
}
