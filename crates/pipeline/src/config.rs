//! Configuration: TOML file, then `POOLTRACE__SECTION__KEY` environment
//! overrides, then flags (applied by the caller).

use std::path::Path;

use pooltrace_engine::EngineConfig;
use pooltrace_parquet::ParquetConfig;
use serde::Deserialize;
use thiserror::Error;

/// Input limits.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// A record longer than this many bytes is dead-lettered unread (default 1 MiB).
    pub max_record_bytes: usize,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            max_record_bytes: 1 << 20,
        }
    }
}

/// Pseudonymisation of person ids in analyst outputs.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The HMAC key (at least 16 bytes). Prefer the `POOLTRACE_PSEUDONYM_KEY`
    /// environment variable to keeping it in a file.
    pub pseudonym_key: Option<String>,
}

/// Everything `pooltrace run` can be told.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub engine: EngineConfig,
    pub parquet: ParquetConfig,
    pub input: InputConfig,
    pub privacy: PrivacyConfig,
    /// The `[kafka]` section, read by the Kafka runtime itself
    /// (`pooltrace_kafka::KafkaConfig`); kept here only so that one file can
    /// hold both.
    pub kafka: toml::Table,
}

/// A configuration that could not be read.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// Loads the TOML file (if any), then applies environment overrides from
    /// `env` (pairs of name and value; pass `std::env::vars()`):
    /// `POOLTRACE__ENGINE__DEADLINES__POOL_RETEST_MIN=90` sets
    /// `engine.deadlines.pool_retest_min`; `POOLTRACE_PSEUDONYM_KEY` sets
    /// `privacy.pseudonym_key`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (mut table, origin) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let table: toml::Table =
                    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                        origin: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                (table, path.display().to_string())
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };
        let mut overridden = Vec::new();
        for (name, value) in env {
            let path: Vec<String> = if name == "POOLTRACE_PSEUDONYM_KEY" {
                vec!["privacy".into(), "pseudonym_key".into()]
            } else if let Some(rest) = name.strip_prefix("POOLTRACE__") {
                rest.split("__").map(|s| s.to_ascii_lowercase()).collect()
            } else {
                continue;
            };
            set_path(&mut table, &path, parse_env_value(&value));
            overridden.push(name);
        }
        let origin = if overridden.is_empty() {
            origin
        } else {
            format!(
                "{origin} with environment overrides {}",
                overridden.join(", ")
            )
        };
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
        let mut config = config;
        config.engine.batch.designs = load_designs(&config.engine.batch.design_files)?;
        config
            .engine
            .validate()
            .map_err(|message| ConfigError::Invalid {
                origin: origin.clone(),
                message,
            })?;
        config
            .parquet
            .validate()
            .map_err(|e| ConfigError::Invalid {
                origin,
                message: e.to_string(),
            })?;
        Ok(config)
    }
}

/// Reads and verifies `[engine.batch.design_files]` (name -> CSV or JSON
/// file; a relative path is taken from the working directory).
fn load_designs(
    files: &std::collections::BTreeMap<String, std::path::PathBuf>,
) -> Result<Vec<std::sync::Arc<pooltrace_decode::Design>>, ConfigError> {
    files
        .iter()
        .map(|(name, path)| {
            let origin = format!("engine.batch.design_files.{name} = {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let is_json = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let loaded = if is_json {
                pooltrace_decode::design_from_json(&text)
            } else {
                pooltrace_decode::design_from_csv(name, &text)
            }
            .map_err(|e| ConfigError::Invalid {
                origin: origin.clone(),
                message: e.to_string(),
            })?;
            // The name manifests use is the config key, whatever the file says.
            let design = pooltrace_decode::Design::new(
                name.clone(),
                loaded.samples(),
                loaded.pools().to_vec(),
            )
            .map_err(|e| ConfigError::Invalid {
                origin,
                message: e.to_string(),
            })?;
            Ok(std::sync::Arc::new(design))
        })
        .collect()
}

/// An environment value as TOML (`90`, `true`, `1.5`), else as a string.
pub fn parse_env_value(v: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(v.to_string()))
}

/// Sets `value` at the dotted `path` in `table`, creating tables on the way
/// (how `POOLTRACE__A__B=v` overrides `a.b`).
pub fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = match entry {
            toml::Value::Table(t) => t,
            _ => return,
        };
    }
    t.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pooltrace.toml");
        std::fs::write(
            &path,
            "[engine]\nallowed_lateness_min = 10\n[engine.deadlines]\npool_retest_min = 90\n[engine.ct_rules.kits.KIT-2]\ncutoff = 37.0\ngrey_zone_upper = 40.0\n",
        )
        .unwrap();
        let env = vec![
            (
                "POOLTRACE__ENGINE__DEADLINES__POOL_RETEST_MIN".to_string(),
                "75".to_string(),
            ),
            (
                "POOLTRACE_PSEUDONYM_KEY".to_string(),
                "0123456789abcdef-key".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::load(Some(&path), env).unwrap();
        assert_eq!(c.engine.allowed_lateness_min, 10);
        assert_eq!(c.engine.deadlines.pool_retest_min, 75);
        assert_eq!(c.engine.deadlines.hospital_transfer_min, 120);
        assert_eq!(c.engine.ct_rules.kits["KIT-2"].cutoff, 37.0);
        assert_eq!(
            c.privacy.pseudonym_key.as_deref(),
            Some("0123456789abcdef-key")
        );
    }

    #[test]
    fn design_files_are_loaded_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("grid.csv");
        std::fs::write(&csv, "1,1,0,0\n0,0,1,1\n1,0,1,0\n0,1,0,1\n").unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "1,1,0,0\n0,0,1,x\n").unwrap();
        let cfg_path = dir.path().join("pooltrace.toml");
        let toml = format!(
            "[engine.batch.design_files]\nlab-grid = {:?}\n",
            csv.display().to_string()
        );
        std::fs::write(&cfg_path, toml).unwrap();
        let c = Config::load(Some(&cfg_path), Vec::new()).unwrap();
        assert_eq!(c.engine.batch.designs.len(), 1);
        let d = &c.engine.batch.designs[0];
        assert_eq!((d.name(), d.pool_count(), d.samples()), ("lab-grid", 4, 4));
        let toml = format!(
            "[engine.batch.design_files]\nbroken = {:?}\n",
            bad.display().to_string()
        );
        std::fs::write(&cfg_path, toml).unwrap();
        let e = Config::load(Some(&cfg_path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("engine.batch.design_files.broken") && e.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn bad_decoder_is_an_error() {
        let env = vec![(
            "POOLTRACE__ENGINE__BATCH__DECODER".to_string(),
            "guess".to_string(),
        )];
        let e = Config::load(None, env).unwrap_err().to_string();
        assert!(
            e.contains("engine.batch.decoder") && e.contains("guess"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_origin() {
        let env = vec![(
            "POOLTRACE__ENGINE__DEADLINES__POOL_RETST_MIN".to_string(),
            "75".to_string(),
        )];
        let e = Config::load(None, env).unwrap_err().to_string();
        assert!(
            e.contains("pool_retst_min")
                && e.contains("POOLTRACE__ENGINE__DEADLINES__POOL_RETST_MIN"),
            "{e}"
        );
    }
}
