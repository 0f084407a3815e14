//! Finding and masking e-mail addresses and card numbers in one string.

use std::borrow::Cow;

use regex::Regex;

use crate::config::RedactConfig;

/// What [`Scanner::redact`] replaced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// E-mail addresses masked.
    pub emails: u64,
    /// Card numbers masked.
    pub cards: u64,
}

impl Found {
    /// Whether anything was masked.
    pub fn any(&self) -> bool {
        self.emails + self.cards > 0
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Found) {
        self.emails += other.emails;
        self.cards += other.cards;
    }
}

/// The compiled matchers and their replacements.
#[derive(Debug, Clone)]
pub struct Scanner {
    email: Option<(Regex, String)>,
    card: Option<(Regex, String)>,
}

impl Scanner {
    /// Compiles the matchers `cfg` turns on.
    pub fn new(cfg: &RedactConfig) -> Scanner {
        let email = cfg.emails.then(|| {
            let re =
                Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
                    .expect("valid e-mail regex");
            (re, cfg.replacement_for("email"))
        });
        // Candidates only: the length, network prefix and Luhn check are code.
        let card = cfg.card_numbers.then(|| {
            let re = Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("valid card regex");
            (re, cfg.replacement_for("card"))
        });
        Scanner { email, card }
    }

    /// Whether `text` holds something to mask (cheaper than [`Scanner::redact`]:
    /// no copy).
    pub fn has_match(&self, text: &str) -> bool {
        if let Some((re, _)) = &self.email
            && re.is_match(text)
        {
            return true;
        }
        if let Some((re, _)) = &self.card {
            return re.find_iter(text).any(|m| is_card_number(m.as_str()));
        }
        false
    }

    /// `text` with every match masked, and what was masked; borrowed as it
    /// was when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> (Cow<'a, str>, Found) {
        let mut found = Found::default();
        let mut out = Cow::Borrowed(text);
        if let Some((re, rep)) = &self.email {
            let (masked, n) = replace(&out, re, rep, |_| true);
            if n > 0 {
                found.emails = n;
                out = Cow::Owned(masked);
            }
        }
        if let Some((re, rep)) = &self.card {
            let (masked, n) = replace(&out, re, rep, is_card_number);
            if n > 0 {
                found.cards = n;
                out = Cow::Owned(masked);
            }
        }
        (out, found)
    }
}

/// `text` with the matches of `re` that pass `keep` replaced by `rep`, and
/// how many there were.
fn replace(text: &str, re: &Regex, rep: &str, keep: impl Fn(&str) -> bool) -> (String, u64) {
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for m in re.find_iter(text).filter(|m| keep(m.as_str())) {
        out.push_str(&text[last..m.start()]);
        out.push_str(rep);
        last = m.end();
        n += 1;
    }
    if n > 0 {
        out.push_str(&text[last..]);
    }
    (out, n)
}

/// Whether `candidate` (digits, maybe spaced or dashed) reads as a payment
/// card number: 13-19 digits, a major network's first digit (2 Mastercard,
/// 3 Amex/Diners/JCB, 4 Visa, 5 Mastercard, 6 Discover/UnionPay), and a
/// valid Luhn check digit. The prefix keeps 13-digit millisecond timestamps
/// (`17...`) out.
pub fn is_card_number(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    (13..=19).contains(&digits.len()) && (2..=6).contains(&digits[0]) && luhn(&digits)
}

/// The Luhn (mod 10) check over `digits`, the check digit last.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        Scanner::new(&RedactConfig::default())
    }

    #[test]
    fn card_numbers_of_each_network_pass_and_near_misses_do_not() {
        for card in [
            "4111111111111111",    // Visa
            "4111 1111 1111 1111", // spaced
            "5555-5555-5555-4444", // Mastercard, dashed
            "2223003122003222",    // Mastercard 2-series
            "378282246310005",     // Amex (15)
            "6011111111111117",    // Discover
            "3530111333300000",    // JCB
        ] {
            assert!(is_card_number(card), "{card}");
        }
        for not in [
            "4111111111111112", // bad check digit
            "1700000000123",    // a millisecond timestamp
            "411111111111",     // 12 digits
            "0000000000000000", // no network starts with 0
        ] {
            assert!(!is_card_number(not), "{not}");
        }
    }

    #[test]
    fn emails_and_cards_are_masked_in_place() {
        let (out, found) =
            scanner().redact("ada@example.com paid 4111 1111 1111 1111, order 4111111111111112");
        assert_eq!(out, "[email] paid [card], order 4111111111111112");
        assert_eq!(
            found,
            Found {
                emails: 1,
                cards: 1
            }
        );
    }

    #[test]
    fn text_without_matches_is_borrowed() {
        let (out, found) = scanner().redact("order 42 took 12ms at 1700000000123");
        assert!(matches!(out, Cow::Borrowed(_)));
        assert!(!found.any());
        assert!(!scanner().has_match("order 42 took 12ms at 1700000000123"));
    }

    #[test]
    fn long_digit_runs_are_not_cut_into_cards() {
        // 25 digits: no 13-19 digit run stands alone.
        assert!(!scanner().has_match("id 4111111111111111411111111"));
    }

    #[test]
    fn the_replacement_names_the_kind() {
        let cfg = RedactConfig {
            replacement: "<{kind} removed>".into(),
            ..Default::default()
        };
        let (out, _) = Scanner::new(&cfg).redact("mail bob.smith+shop@mail.example.org");
        assert_eq!(out, "mail <email removed>");
    }
}
