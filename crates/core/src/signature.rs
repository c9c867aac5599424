//! Twilio's request signature (docs/behaviour.md §4.1): base64(HMAC-SHA1(auth token, URL + each
//! parameter name in sorted order followed by each of its values in sorted order)).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The signature of `url` and form `params` under `auth_token`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The spellings of one URL a sender may have signed: as given, with the scheme's default
/// port added when it has none, and without its port when it has one (as Twilio's own
/// validator accepts).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else { return variants };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    // A port follows the last ':' unless that colon is inside an IPv6 literal.
    let port_at = hostport.rfind(':').filter(|&i| !hostport[i..].contains(']'));
    match port_at {
        Some(i) => variants.push(format!("{scheme}://{userinfo}{}{tail}", &hostport[..i])),
        None => {
            let port = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
            variants.push(format!("{scheme}://{userinfo}{hostport}:{port}{tail}"));
        }
    }
    variants
}

/// Whether `signature` is valid for any spelling of `url`; compares in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_variants(url).iter().fold(false, |valid, candidate| {
        let expected = compute(auth_token, candidate, params);
        valid | bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vector_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn the_behaviour_vector_signs_as_twilio_documents() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(compute("12345", url, &vector_params()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &vector_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(verify(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &vector_params(),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify("54321", url, &vector_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify("12345", url, &vector_params()[1..], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn a_url_is_accepted_with_and_without_its_default_port() {
        assert_eq!(
            url_variants("https://h.example/a?b=1"),
            vec!["https://h.example/a?b=1", "https://h.example:443/a?b=1"]
        );
        assert_eq!(url_variants("http://h.example:80/a"), vec!["http://h.example:80/a", "http://h.example/a"]);
        assert_eq!(url_variants("http://[::1]/a"), vec!["http://[::1]/a", "http://[::1]:80/a"]);
    }

    proptest! {
        #[test]
        fn verification_never_panics_on_arbitrary_input(url in ".{0,80}", token in ".{0,40}", signature in ".{0,40}",
                                                        params in prop::collection::vec((".{0,10}", ".{0,10}"), 0..5)) {
            let _ = verify(&token, &url, &params, &signature);
        }
    }
}
