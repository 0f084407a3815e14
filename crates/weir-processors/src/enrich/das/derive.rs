//! Derivation of domain, action and status from an event name of the form
//! `domain_action_status`: the first token is the domain (an unknown one takes
//! the default marker), the last token the status when it is a known status, and
//! the action the first known action among the tokens in between. A name with a
//! single token derives nothing.

use super::Das;

/// The markers derived from `lower_name` (already lower-cased).
pub(super) fn derive<'d>(das: &'d Das, lower_name: &str) -> [Option<&'d str>; 3] {
    let name = lower_name.trim_matches('_');
    let Some((first, rest)) = name.split_once('_') else {
        return [None; 3];
    };
    let domain = Some(das.domain.marker(first));
    let (last_start, last) = rest.rsplit_once('_').unwrap_or(("", rest));
    let (middle, status) = match das.status.get(last) {
        Some(m) => (last_start, Some(m)),
        None => (rest, None),
    };
    let action = middle.split('_').find_map(|t| das.action.get(t));
    [domain, action, status]
}
