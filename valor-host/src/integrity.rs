//! Subresource Integrity for plugin modules: an entry's optional `integrity`
//! (`sha256-<base64>`, also `sha384-` and `sha512-`, several separated by spaces, as in HTML)
//! must match the module's bytes, or the module is refused. Every module's SHA-256 is also kept,
//! in the same form, for the registry's listing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::future::Future;

/// The digests a module must match one of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integrity(Vec<Expected>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Expected {
    algorithm: Algorithm,
    /// The digest, as written (base64).
    digest: String,
}

/// A digest algorithm an `integrity` value may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-256, also the digest every module is listed with.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    const ALL: [Algorithm; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// As SRI writes it.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// As WebCrypto names it.
    pub fn web_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    fn bytes(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

impl Integrity {
    /// Parses an `integrity` value; says what is wrong with it otherwise.
    pub fn parse(value: &str) -> Result<Self, String> {
        let expected: Vec<Expected> = value
            .split_ascii_whitespace()
            .map(|token| {
                let (algorithm, digest) = token.split_once('-').unwrap_or((token, ""));
                let algorithm = Algorithm::ALL
                    .into_iter()
                    .find(|a| a.prefix() == algorithm)
                    .ok_or_else(|| {
                        format!(
                            "invalid integrity {token:?}: use sha256-, sha384- or sha512-<base64>"
                        )
                    })?;
                let decoded = STANDARD.decode(digest).ok();
                if decoded.map(|d| d.len()) != Some(algorithm.bytes()) {
                    return Err(format!(
                        "invalid integrity {token:?}: not a {} digest in base64",
                        algorithm.prefix()
                    ));
                }
                Ok(Expected {
                    algorithm,
                    digest: digest.to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        if expected.is_empty() {
            return Err(
                "invalid integrity \"\": give sha256-<base64> (or sha384-, sha512-)".into(),
            );
        }
        Ok(Self(expected))
    }
}

impl std::fmt::Display for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tokens: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}-{}", e.algorithm.prefix(), e.digest))
            .collect();
        f.write_str(&tokens.join(" "))
    }
}

/// The module's SHA-256 in SRI form, after checking the module against `integrity` if there is
/// one. `sri` computes a digest of the module's bytes in SRI form (`sha256-<base64>`), as the
/// host can: WebCrypto in the browser, a hash crate on a server. A mismatch gives both digests.
pub async fn check<F>(
    integrity: Option<&Integrity>,
    mut sri: impl FnMut(Algorithm) -> F,
) -> Result<String, String>
where
    F: Future<Output = Result<String, String>>,
{
    let sha256 = sri(Algorithm::Sha256).await?;
    let Some(Integrity(expected)) = integrity else {
        return Ok(sha256);
    };
    let mut actual = Vec::new();
    for want in expected {
        let got = if want.algorithm == Algorithm::Sha256 {
            sha256.clone()
        } else {
            sri(want.algorithm).await?
        };
        if got == format!("{}-{}", want.algorithm.prefix(), want.digest) {
            return Ok(sha256);
        }
        actual.push(got);
    }
    let wanted: Vec<String> = expected
        .iter()
        .map(|e| format!("{}-{}", e.algorithm.prefix(), e.digest))
        .collect();
    Err(format!(
        "its bytes do not match its integrity: expected {}, got {}",
        wanted.join(" or "),
        actual.join(" / ")
    ))
}

/// A digest in SRI form: the algorithm's name, a dash, the digest in base64.
pub fn sri_form(algorithm: Algorithm, digest: &[u8]) -> String {
    format!("{}-{}", algorithm.prefix(), STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_values_are_checked_when_parsed() {
        let sha256 = format!("sha256-{}", STANDARD.encode([7u8; 32]));
        let sha512 = format!("sha512-{}", STANDARD.encode([9u8; 64]));
        assert_eq!(Integrity::parse(&sha256).unwrap().0.len(), 1);
        assert_eq!(
            Integrity::parse(&format!("{sha256}  {sha512}"))
                .unwrap()
                .0
                .len(),
            2
        );
        for (bad, reason) in [
            ("", "give sha256-"),
            ("md5-abc", "use sha256-"),
            ("sha256-abc", "not a sha256 digest"),
            (&sha512.replace("sha512", "sha256"), "not a sha256 digest"),
        ] {
            let error = Integrity::parse(bad).unwrap_err();
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }
}
