//! The compiled sampler: the config checked and turned into thresholds,
//! regexes and maps, and the per-item decision.

use std::collections::HashMap;

use regex::Regex;
use weir_core::ConfigError;
use weir_otlp::splice::attrs::ValueRef;

use super::config::{Action, RuleConfig, SampleConfig, Scalar, StatusMatch};
use super::hash::{Ratio, Rng, hash};
use super::record::{Attrs, Item, SAMPLING_RATIO, lookup};

/// The `rule` label of decisions made by the top-level `ratio`.
pub const BASE_RULE: &str = "ratio";

/// What one item gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The rule that decided: an index into the rules, or the rule count for the
    /// top-level `ratio`.
    pub rule: usize,
    /// Keep or drop.
    pub keep: bool,
    /// The ratio the item was sampled at (1.0 when a rule kept it outright).
    pub ratio: f64,
}

/// The sampler of one processor instance, immutable after build.
#[derive(Debug)]
pub struct Sampler {
    ratio: Ratio,
    seed: u32,
    hash_attribute: Option<String>,
    rules: Vec<Rule>,
    /// Every attribute key a decision may read, and `sampling.ratio`: what
    /// the byte path collects of a record.
    read_keys: Vec<Box<[u8]>>,
}

#[derive(Debug)]
struct Rule {
    name: String,
    kind: RuleKind,
}

#[derive(Debug)]
enum RuleKind {
    MinSeverity(i32),
    StatusError,
    Attribute {
        key: String,
        matcher: Matcher,
        action: Action,
    },
    RatioBy {
        key: String,
        ratios: HashMap<String, Ratio>,
        default: Ratio,
    },
}

#[derive(Debug)]
enum Matcher {
    /// The value in every form it may take on the wire.
    Equals {
        text: String,
        int: Option<i64>,
        float: Option<f64>,
        boolean: Option<bool>,
    },
    Regex(Regex),
}

impl Matcher {
    #[inline]
    fn matches(&self, v: &ValueRef<'_>) -> bool {
        match (self, v) {
            (Matcher::Equals { text, .. }, ValueRef::Str(s)) => s == text,
            (Matcher::Equals { int: Some(i), .. }, ValueRef::Int(v)) => v == i,
            (Matcher::Equals { float: Some(f), .. }, ValueRef::Double(v)) => v == f,
            (
                Matcher::Equals {
                    boolean: Some(b), ..
                },
                ValueRef::Bool(v),
            ) => v == b,
            (Matcher::Regex(re), ValueRef::Str(s)) => re.is_match(s),
            _ => false,
        }
    }
}

fn check_ratio(path: impl FnOnce() -> String, v: f64) -> Result<Ratio, ConfigError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(Ratio::new(v))
    } else {
        Err(ConfigError::at(
            path(),
            format!("ratio {v} is out of range: expected 0.0 (keep none) to 1.0 (keep all)"),
        ))
    }
}

impl Sampler {
    /// Checks `cfg` and compiles it. Errors name the offending field's path.
    pub fn compile(cfg: &SampleConfig) -> Result<Self, ConfigError> {
        let ratio = check_ratio(|| "ratio".into(), cfg.ratio)?;
        if cfg.hash_attribute.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::at("hash_attribute", "must not be empty"));
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(cfg.rules.len());
        for (i, rc) in cfg.rules.iter().enumerate() {
            let rule = compile_rule(i, rc, cfg.ratio)?;
            if rule.name.is_empty() || rule.name == BASE_RULE {
                return Err(ConfigError::at(
                    format!("rules[{i}].name"),
                    format!(
                        "`{}` cannot name a rule: it is empty or reserved for the top-level ratio",
                        rule.name
                    ),
                ));
            }
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(ConfigError::at(
                    format!("rules[{i}].name"),
                    format!(
                        "rule name `{}` is used twice: names label counters and must be unique",
                        rule.name
                    ),
                ));
            }
            rules.push(rule);
        }
        let mut read_keys: Vec<Box<[u8]>> = rules
            .iter()
            .filter_map(|r| match &r.kind {
                RuleKind::Attribute { key, .. } | RuleKind::RatioBy { key, .. } => {
                    Some(key.as_str())
                }
                _ => None,
            })
            .chain(cfg.hash_attribute.as_deref())
            .chain([SAMPLING_RATIO])
            .map(|k| k.as_bytes().into())
            .collect();
        read_keys.sort_unstable();
        read_keys.dedup();
        Ok(Sampler {
            ratio,
            seed: cfg.hash_seed,
            hash_attribute: cfg.hash_attribute.clone(),
            rules,
            read_keys,
        })
    }

    /// Whether this sampler keeps everything unchanged (ratio 1, no rules), so
    /// batches can pass without being decoded.
    pub fn keeps_everything(&self) -> bool {
        self.rules.is_empty() && self.ratio.keeps_all()
    }

    /// Every attribute key a decision may read (rules, `hash_attribute`),
    /// and `sampling.ratio`, as bytes.
    pub fn read_keys(&self) -> &[Box<[u8]>] {
        &self.read_keys
    }

    /// The `rule` labels, in decision-index order (the top-level ratio last).
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules
            .iter()
            .map(|r| r.name.as_str())
            .chain(std::iter::once(BASE_RULE))
    }

    /// Decides one item. Allocates nothing.
    #[inline]
    pub fn decide<I: Item, R: Attrs + ?Sized>(
        &self,
        item: &I,
        resource: &R,
        rng: &mut Rng,
    ) -> Decision {
        let attrs = item.attrs();
        for (rule, r) in self.rules.iter().enumerate() {
            let kept = |keep| Decision {
                rule,
                keep,
                ratio: 1.0,
            };
            match &r.kind {
                RuleKind::MinSeverity(min) => {
                    if item.severity() >= *min {
                        return kept(true);
                    }
                }
                RuleKind::StatusError => {
                    if item.is_error() {
                        return kept(true);
                    }
                }
                RuleKind::Attribute {
                    key,
                    matcher,
                    action,
                } => {
                    if lookup(attrs, resource, key).is_some_and(|v| matcher.matches(&v)) {
                        return kept(*action == Action::Keep);
                    }
                }
                RuleKind::RatioBy {
                    key,
                    ratios,
                    default,
                } => {
                    if let Some(v) = lookup(attrs, resource, key) {
                        let ratio = match v {
                            ValueRef::Str(s) => ratios.get(s).unwrap_or(default),
                            _ => default,
                        };
                        return self.sample(rule, ratio, item, resource, rng);
                    }
                }
            }
        }
        self.sample(self.rules.len(), &self.ratio, item, resource, rng)
    }

    #[inline]
    fn sample<I: Item, R: Attrs + ?Sized>(
        &self,
        rule: usize,
        ratio: &Ratio,
        item: &I,
        resource: &R,
        rng: &mut Rng,
    ) -> Decision {
        let keep = ratio.keeps_all() || ratio.keeps(self.key_hash(item, resource, rng));
        Decision {
            rule,
            keep,
            ratio: ratio.value,
        }
    }

    /// The item's sampling hash: by trace id, else by `hash_attribute`, else random.
    #[inline]
    fn key_hash<I: Item, R: Attrs + ?Sized>(&self, item: &I, resource: &R, rng: &mut Rng) -> u64 {
        if let Some(id) = item.trace_id() {
            return hash(self.seed, id);
        }
        if let Some(key) = &self.hash_attribute
            && let Some(h) = lookup(item.attrs(), resource, key).and_then(|v| self.value_hash(&v))
        {
            return h;
        }
        rng.next_u64()
    }

    fn value_hash(&self, v: &ValueRef<'_>) -> Option<u64> {
        Some(match v {
            ValueRef::Str(s) => hash(self.seed, s.as_bytes()),
            ValueRef::Bytes(b) => hash(self.seed, b),
            ValueRef::Int(i) => hash(self.seed, &i.to_le_bytes()),
            ValueRef::Double(d) => hash(self.seed, &d.to_bits().to_le_bytes()),
            ValueRef::Bool(b) => hash(self.seed, &u64::from(*b).to_le_bytes()),
            _ => return None,
        })
    }
}

fn compile_rule(i: usize, rc: &RuleConfig, base: f64) -> Result<Rule, ConfigError> {
    let at = |field: &str| {
        if field.is_empty() {
            format!("rules[{i}]")
        } else {
            format!("rules[{i}].{field}")
        }
    };
    let kinds = [
        rc.min_severity.is_some(),
        rc.status.is_some(),
        rc.attribute.is_some(),
        rc.ratio_by.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(ConfigError::at(
            at(""),
            "a rule needs exactly one of `min_severity`, `status`, `attribute` or `ratio_by`",
        ));
    }
    if rc.attribute.is_none() {
        for (set, field) in [
            (rc.equals.is_some(), "equals"),
            (rc.matches.is_some(), "matches"),
            (rc.action.is_some(), "action"),
        ] {
            if set {
                return Err(ConfigError::at(
                    at(field),
                    format!("`{field}` belongs to an `attribute` rule"),
                ));
            }
        }
    }
    let kind = if let Some(level) = rc.min_severity {
        RuleKind::MinSeverity(level.0)
    } else if let Some(StatusMatch::Error) = rc.status {
        RuleKind::StatusError
    } else if let Some(key) = &rc.attribute {
        if key.is_empty() {
            return Err(ConfigError::at(at("attribute"), "must not be empty"));
        }
        let matcher = match (&rc.equals, &rc.matches) {
            (Some(v), None) => equals(v),
            (None, Some(pattern)) => Matcher::Regex(
                Regex::new(pattern)
                    .map_err(|e| ConfigError::at(at("matches"), format!("invalid regex: {e}")))?,
            ),
            _ => {
                return Err(ConfigError::at(
                    at(""),
                    "an `attribute` rule needs exactly one of `equals` or `matches`",
                ));
            }
        };
        RuleKind::Attribute {
            key: key.clone(),
            matcher,
            action: rc.action.unwrap_or_default(),
        }
    } else {
        let rb = rc.ratio_by.as_ref().expect("one kind is set");
        if rb.attribute.is_empty() {
            return Err(ConfigError::at(
                at("ratio_by.attribute"),
                "must not be empty",
            ));
        }
        let mut ratios = HashMap::with_capacity(rb.ratios.len());
        for (value, r) in &rb.ratios {
            ratios.insert(
                value.clone(),
                check_ratio(|| at(&format!("ratio_by.ratios.{value}")), *r)?,
            );
        }
        let default = check_ratio(|| at("ratio_by.default"), rb.default.unwrap_or(base))?;
        RuleKind::RatioBy {
            key: rb.attribute.clone(),
            ratios,
            default,
        }
    };
    Ok(Rule {
        name: rc.name.clone().unwrap_or_else(|| format!("rule_{i}")),
        kind,
    })
}

fn equals(v: &Scalar) -> Matcher {
    let (text, int, float, boolean) = match v {
        Scalar::Bool(b) => (b.to_string(), None, None, Some(*b)),
        Scalar::Int(i) => (i.to_string(), Some(*i), Some(*i as f64), None),
        Scalar::Float(f) => (f.to_string(), None, Some(*f), None),
        Scalar::String(s) => (s.clone(), None, None, None),
    };
    Matcher::Equals {
        text,
        int,
        float,
        boolean,
    }
}
